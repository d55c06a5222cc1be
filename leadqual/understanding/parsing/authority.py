"""Authority answers: who decides the purchase (the role taxonomy is leadqual.understanding.roles)."""

from __future__ import annotations

import re

from leadqual.understanding import roles
from leadqual.understanding.parsing.common import Authority, fold, never_raises

_A_NONE = re.compile(
    r"\bsoy (?:un |una )?estudiante\b|\bestudiante\b|\bestoy estudiando\b"
    r"|\b(?:trabajo|proyecto|tarea|practica)s? (?:de|para) (?:clase|la uni|la universidad|fin de grado"
    r"|fin de master|el instituto|la escuela|el master|la facultad)\b|\b(?:tfg|tfm|tesis|deberes)\b"
    r"|\bpor curiosidad\b|\bsolo curiosidad\b|\bsolo (?:estoy )?curioseando\b"
    r"|\bno trabajo (?:en|para) (?:ninguna|una|la) empresa\b|\bno tengo empresa\b"
    r"|\b(?:actualmente|ahora) no trabajo\b|\bestoy en (?:el )?paro\b|\bdesemplead[oa]\b"
    r"|\bjubilad[oa]\b|\bsoy (?:un |una )?particular\b|\bcomo particular\b"
    r"|\bstudent\b|\bfor (?:a |my )?(?:class|school|college|university|uni|homework|thesis"
    r"|assignment|course)\b|\bschool project\b|\bhomework\b|\bjust curious\b|\bout of curiosity\b"
    r"|\bi (?:don'?t|do not) work (?:for|at|in) (?:a|any) company\b|\bunemployed\b|\bretired\b"
    r"|\bnot (?:currently )?(?:working|employed)\b|\bfor (?:a )?research (?:paper|project)\b"
    r"|\bno es para (?:ninguna|una) empresa\b|\bsin empresa\b|\b(?:isn'?t|is not"
    r"|not) for (?:a|any) (?:company|business)\b"
    r"|\bpara un (?:articulo|reportaje|ejercicio|trabajo de clase)\b"
    r"|\bfor an? (?:article|class exercise|blog post|review)\b"
    r"|\bsolo (?:miraba|estoy mirando|mirando|estaba mirando|vengo a mirar|chusmeando|vitrineando)\b"
    r"(?!.*\b(?:me lo pidio|me pidio|mi jefe|mi jefa|for my (?:boss|manager)))"
    r"|\bjust (?:browsing|looking around|having a look|window shopping)\b"
    r"|\b(?:entre|llegue|vine) (?:aqui |aca )?por error\b"
    r"|\b(?:clicked|ended up here|came here) by (?:mistake|accident)\b"
    r"|\bno company\b|\bnada que ver\b"
    r"|\bentre de curios[oa]\b|\b(?:nomas|solo) (?:estoy )?viendo\b(?!.*\b(?:jefe|jefa|gerente|dueno|duena)\b)"
    r"|\b(?:no compro|no compramos|not buying) (?:nada|anything)\b|\bnosing around\b|\ba friend sent me\b"
    r"|\b(?:entrevista de trabajo|vacante|aplicando a|postulando a|postulo a)\b|\brecruiter\b|\breclutador[a]?\b"
    r"|\b(?:escribo|tengo) un blog\b|\b(?:writing|write) a (?:comparison |review )?(?:blog|article|post)\b"
    r"|\breviews? de software\b|\bsoftware reviews?\b|\bresearching the (?:\w+ )?market\b"
    r"|\bviendo como lo hacen\b|\bde otra empresa de software\b"
    r"|^estudio (?:administracion|derecho|marketing|ingenieria|economia|informatica|empresariales|publicidad)\b"
)


# Someone else decides (negated self-decision included: it must be checked first).
_A_OTHER = re.compile(
    r"\bno (?:lo |la )?decido yo\b|\bno (?:lo |la )?decido\b|\bno soy (?:yo )?(?:el|la|quien) (?:que )?decid"
    r"|\bno depende de mi\b|\bno es (?:mi decision|cosa mia)\b|\bno soy yo\b|\bno yo\b"
    r"|\b(?:lo |la )?(?:decide|decidira|decidiran|deciden|aprueba|aprobara|aprueban|firma|firman"
    r"|autoriza|autorizan|tiene la ultima palabra|toma la decision)"
    r"\s+(?:mi|mis|el|la|los|las|nuestro|nuestra|otra|otro|otros|alguien|un|una|ellos|gerencia"
    r"|direccion|arriba|compras|finanzas)\b"
    # "eso lo ve el dueño", "lo lleva mi jefe": the object pronoun makes "ve"/"lleva" a decision.
    r"|\b(?:lo|la|eso lo|eso la|esto lo) (?:ve|ven|vera|veran|lleva|llevan|maneja|manejan|define|definen"
    r"|resuelve|resuelven|revisa|revisan|valida|validan)\s+(?:mi|mis|el|la|los|las|nuestro|nuestra|otra|otro"
    r"|alguien|gerencia|direccion|arriba|compras|finanzas)\b"
    r"|\b(?:mi|mis|el|la|nuestro|nuestra|los)\s+(?:jefe|jefa|jefes|superior|superiores|responsable"
    r"|director|directora|gerente|dueno|duena|ceo|cfo|consejo|comite|direccion|socio|socia|propietario"
    r"|manager)(?:\s+\w+)?\s+(?:(?:lo|la) (?:ve|ven|lleva|maneja|define|valida)\b|(?:lo |la )?(?:decide|deciden"
    r"|aprueba|aprueban|firma|tiene la ultima palabra|toma la decision|manda)\b)"
    r"|\bla decision (?:la toma|es de|corresponde a|depende de) (?!mi\b)\w+"
    r"|\bdepende de (?:mi|mis) (?:jefe|jefa|jefes|superior|responsable|socio|socia|director|directora)\b"
    r"|\bdepende de (?:el|la|los|direccion|gerencia|otra|otro)\b"
    r"|\botra persona\b|\balguien (?:mas|de arriba)\b"
    r"|\b(?:lo |la )?tiene(?:n)? que (?:aprobar|firmar|autorizar|validar)\s+(?:el|la|los|las|mi|nuestro|nuestra)\b"
    r"|\b(?:el|la) que (?:decide|firma|aprueba|manda|elige|escoge) es (?:mi|el|la|nuestro|nuestra) \w+"
    r"|\blo va(?:n)? a decidir (?:el|ella|ellos|mi|la|los)\b"
    r"|\b(?:he|she|they) (?:decides?|picks?|chooses?|approves?|signs?|has the final say)\b"
    r"|(?<!\bi )(?<!\bwe )\b(?:make|makes) the (?:final|last) (?:call|decision|say)\b"
    r"|\b(?:needs?|has|have) to be (?:approved|signed off|signed) by\b"
    r"|\b(?:has|have|gets?) (?:the )?final (?:approval|sign[- ]off|say)\b"
    r"|\b(?:approve|approves) (?:any|all|every) (?:spend|purchase)"
    r"|\b(?:le |les )?present[oa] (?:las )?opciones a (?:la|el|los|mi)\b|\bthe (?:partners|owners|board) vote\b"
    r"|\bpass (?:your|the) (?:info|details) (?:up )?to\b|\bal final (?:el|ella) (?:dice|decide|elige)\b"
    r"|\b(?:el|ella) (?:elige|decide|escoge)\b|\b(?:he|she)'?ll decide\b"
    r"|\bnot (?:my (?:call|decision)|up to me|me)\b|\bi (?:don'?t|do not) (?:decide|make the decision)"
    r"|\bi'?m not the (?:decision[- ]maker|one who decides|one deciding)\b"
    r"|\bsome(?:one|body) else\b|\banother person\b"
    r"|\b(?:my|the|our)\s+(?:boss|manager|supervisor|director|ceo|cfo|cto|owner|founder|partner"
    r"|board|management|team lead|lead|head|superior|vp|client)(?:\s+\w+)?\s+"
    r"(?:decides|approves|signs|makes|has|will decide|will approve|calls the shots)\b"
    r"|\b(?:decided|approved|signed off) by (?:my|the|our)\b|\bit'?s up to (?:my|the|our)\b"
    r"|\b(?:upper )?management (?:decides|approves)\b"
    # "el CEO es quien escoge", "quien firma es el CFO", "lo decide la junta", "the final call is the CEO's"
    r"|\b(?!yo\b)\w+ (?:es|son) (?:quien|quienes|el que|la que|los que) (?:decide|deciden|elige|eligen|escoge|escogen"
    r"|firma|firman|aprueba|aprueban|manda|mandan)\b|\bquien (?:firma|decide"
    r"|aprueba|elige|escoge) (?:es|son) (?!yo\b)\w+"
    r"|\b(?:lo |la |esto lo |eso lo )?(?:decide|deciden|aprueba|aprueban|firma|firman|elige|eligen|escoge|escogen)"
    r" (?:la junta|el consejo|el directorio|la gerencia|el board|los socios|el dueno|la duena|el jefe|la jefa|el ceo"
    r"|el cfo|la matriz|casa matriz|mi jefe|mi jefa)\b"
    r"|\b(?:the )?(?:board|investors|parent company|head office|hq|procurement|finance|owner|ceo|cfo|director|boss"
    r"|manager|vp)(?: and (?:the )?\w+)? (?:has|have|gets?) the (?:final|last) (?:say|word|call)\b"
    r"|\b(?:the )?(?:final|last) (?:call|say|word|decision) (?:is|will be|'s|lies with"
    r"|rests with) (?:the |my |our )?(?!mine\b|me\b)\w+"
    r"|\b(?:the )?(?:board|investors|procurement|finance|ceo|cfo|owner|director|boss|manager|parent company)"
    r"(?: and (?:the )?\w+)? (?:approves?|signs? off|picks?|chooses?|decides?|selects?)\b"
    r"|\b(?:my|our|the) (?:boss|manager|director|owner|ceo|lead)(?:'s"
    r"| is) (?:the one|who) (?:who )?(?:picks|chooses|decides"
    r"|signs)\b|\bapprove[sd]? all (?:new )?(?:spend|spending|purchases)\b"
)


_A_USER_ONLY = re.compile(
    r"\b(?:yo )?solo (?:lo )?(?:usaria|usare|uso|voy a usar|lo voy a usar|seria usuari[oa])\b"
    r"|\b(?:yo )?(?:lo )?usaria yo\b|\bsoy (?:solo )?(?:un |una )?usuari[oa]\b"
    r"|\bi'?d (?:just|only) use it\b|\bi would (?:just|only) use it\b|\bi'?d use it\b|\blo usariamos\b"
    r"|\b(?:uno|una) de (?:los|las) que lo (?:va|vamos) a usar\b|\bsoy del equipo\b"
    r"|\bsoy (?:la|el) (?:de|que) (?:atencion al cliente|soporte|ventas|contesta|carga|atiende|hace los"
    r"|lleva las cuentas)\b"
    r"|\b(?:enfermer[oa]|recepcion|dispatcher|warehouse|bodeguer[oa]|chofer|driver|cociner[oa]|mesero|camarer[oa])\b"
    r"|\bi'?ll (?:just|only) (?:be )?us(?:e|ing) it\b|\bi'?m (?:just )?(?:a|an|the)? ?(?:end )?user\b"
    r"|\bjust a user\b|\bsoy (?:un |una )?(?:emplead[oa]|becari[oa]|comercial|tecnic[oa]|administrativ[oa]"
    r"|asistente|analista|vendedor[a]?)\b|\bi'?m (?:an? )?(?:employee|intern|assistant|sales rep|analyst)\b"
)


_A_SELF_DECIDES = re.compile(
    r"\b(?:lo |la )?decido yo\b|\byo (?:lo |la )?decido\b|\bdecido yo\b"
    r"|\b(?:yo )?soy (?:yo )?(?:el|la|quien) (?:que )?(?:decide|firma|manda|aprueba)\b"
    r"|\bsoy yo (?:quien|el que|la que) decid\w*|\b(?:quien|el que|la que) decide soy yo\b"
    r"|\bla (?:ultima |final )?decision(?: final| ultima)? (?:es|sera|va a ser) (?:mia|mio)\b|\bdecision mia\b"
    r"|\b(?:me toca|me corresponde)(?: a mi)? (?:decidir|la decision|aprobar|firmar)\b"
    r"|\b(?:decidir|la decision|aprobarlo|decidirlo) me (?:toca|corresponde)\b"
    r"|\b(?:quien|el que|la que) (?:decide|manda|firma|aprueba) soy yo\b"
    r"|\bdepende de mi(?=\s*(?:$|[.,;!]|y\b|pero\b|solo\b))"
    r"|\b(?:yo )?tomo (?:yo )?(?:la|las) decision(?:es)?\b|\byo mando\b|\bmando yo\b|\bfirmo yo\b|\byo firmo\b"
    r"|\btengo la ultima palabra\b|\bla ultima palabra (?:la tengo yo|es mia)\b|\byo apruebo\b|\bapruebo yo\b"
    r"|\bsoy (?:el|la) responsable de (?:la )?(?:compra|decision)\b"
    r"|\bi decide\b|\bi(?: will|'ll)? make the (?:final )?(?:decision|call)\b|\bi make (?:the )?decisions?\b"
    r"|\bit'?s my (?:call|decision)\b|\bmy (?:call|decision)\b|\bi'?m the (?:decision[- ]maker|one who decides"
    r"|one deciding|budget holder|buyer)\b|\bi (?:have|hold) the final say\b|\bfinal say is mine\b"
    r"|\bi sign off\b|\bi approve\b|\bthe buck stops with me\b|\bup to me\b|\bi call the shots\b"
    r"|\bthe (?:final )?(?:decision|call|say)(?: is| will be|'s) (?:mine|with me|on me)\b|\bthe decision'?s mine\b"
    r"|\b(?:the )?budget (?:is|'s) mine\b|\bi (?:hold|own|control|manage) the budget\b|\bbudget holder\b"
    r"|\bi(?: have|'ve got)? (?:final )?sign[- ]off\b|\bi(?:'m| am) the one who signs\b"
    r"|\bi sign (?:the )?(?:contracts?|checks?|cheques?)\b"
    r"|\bsole decision[- ]maker\b|\bi (?:choose|pick|select)(?: the tools?)?\b"
    r"|\bel presupuesto es mio\b|\b(?:manejo|controlo|administro|tengo) (?:yo )?el presupuesto\b|\bcarta blanca\b"
    r"|\b(?:yo elijo|elijo yo|yo escojo|escojo yo|yo pago|pago yo)\b|\b(?:la )?firma (?:es )?mia\b"
    r"|\bel presupuesto (?:lo )?(?:manejo|controlo|llevo|decido|tengo) yo\b"
    r"|\b(?:el|la) que (?:aprueba|firma|decide|autoriza|paga)(?: \w+){0,3} soy yo\b"
    r"|\bla decision(?: de compra| final)? es mia\b"
    r"|\bi'?m the one who (?:approves|signs|decides|okays|pays)\b|\bi (?:approve|sign off on) (?:the )?spend\w*\b"
    # Authority handed to the visitor: "me delegó la decisión", "the owner handed this decision to me".
    r"|\bme (?:dio|dieron|ha dado|han dado|delego|delegaron|ha delegado|han delegado|paso|pasaron|cedio|confio)"
    r" (?:el ok|luz verde|la decision|autorizacion|autoridad|permiso|carta blanca|el presupuesto)\b"
    r"|\b(?:tengo|con) (?:autonomia|autoridad|libertad) (?:total |completa |plena )?(?:para|de)"
    r" (?:elegir|decidir|comprar|contratar)\b"
    r"|\b(?:quien|el que|la que) tiene la ultima palabra(?: \w+){0,3} soy yo\b"
    r"|\bel presupuesto (?:del area |del departamento |de \w+ )?es mio\b"
    r"|\b(?:handed|delegated|gave|left) (?:this |the )?(?:decision|call|budget) (?:to me|over to me)\b"
    r"|\b(?:told|asked) me to (?:pick|choose|buy|sign)(?: \w+){0,3} and (?:buy|sign|pay)\b"
    r"|\bi have (?:the )?(?:company card|budget authority|purchasing authority|sign-?off authority)\b"
)


_DM_TITLES = (
    r"ceo|consejer[oa] delegad[oa]|director[a]? general|director[a]? ejecutiv[oa]|gerente general"
    r"|gerente(?! de (?!la empresa|la compania|la tienda))"
    r"|duen[oa]|propietari[oa]|fundador[a]?|co-?fundador[a]?|socio (?:fundador|director|gerente)"
    r"|socia (?:fundadora|directora|gerente)|presidente|presidenta|administrador[a]? unic[oa]"
    r"|owner|founder|co-?founder|managing director|md|president|general manager|chief executive"
    r"|cfo|cto|coo|cmo|cio|cro|mer[oa] mer[oa]"
)


_MID_TITLES = (
    r"director[a]?(?: de \w+)?|jefe(?: de \w+)?|jefa(?: de \w+)?|responsable(?: de \w+)?"
    r"|head of \w+|vp(?: of \w+)?|vice ?president(?: of \w+)?|\w+ manager|manager|director"
    r"|socio|socia|partner|administrador[a]?"
)


_SELF = r"\b(?:soy|yo soy|como|i'?m|i am|as|im)\s+(?:el |la |un |una |the |a |an )?(?:propi[oa] )?"


_A_DM_TITLE = re.compile(rf"{_SELF}(?:{_DM_TITLES})\b")


_A_MID_TITLE = re.compile(rf"{_SELF}(?:{_MID_TITLES})\b")


_A_OWN_BUSINESS = re.compile(
    r"\b(?:la|lo) funde yo\b|\bfunde (?:la|el) (?:empresa|negocio|estudio|agencia|tienda)\b|\bsoy (?:el |la )?titular\b"
    r"|\b(?:la |el )?jef[ae] de todo(?: esto)? soy yo\b|\bes mi[oa]\b(?=.*\b(?:llevo|tengo|dirijo|manejo)\b)"
    r"|\brepresentante legal\b|\btengo (?:una |mi )?(?:tiendita|tienda|empresita|negocito|pyme)\b"
    r"|\b(?:soy|i'?m|i am) (?:un |una |a |an )?(?:autonom[oa]|freelance|freelancer|self[- ]employed"
    r"|emprendedor[a]?|entrepreneur|independiente|solopreneur)\b|\btrabajo por mi cuenta\b"
    r"|\bmi propia empresa\b|\bmy own (?:company|business)\b|\bi own (?:the|a|my|this) (?:company|business)\b"
    r"|\bes mi (?:empresa|negocio)\b|\btengo (?:una|mi) (?:empresa|negocio|tienda|agencia|startup)\b"
    r"|\b(?:it'?s|is) my (?:company|business)\b"
)


_A_SHARED_STRONG = re.compile(
    r"\b(?:lo |la )?(?:decido|decidimos|decidiremos|decidire|decidiriamos)\s+(?:yo\s+)?(?:con|junto con|entre"
    r"|en equipo|juntos|conjuntamente)\b|\b(?:lo |la )?decidimos entre\b"
    r"|\b(?:decide|decidir|decision)\w* (?:con|junto a|junto con) mi\b"
    r"|\bwe (?:all )?decide (?:together|as a team|jointly)\b|\bi decide with\b|\bdecide (?:it )?with my\b"
    r"|\bpart of the decision\b|\bjoint decision\b|\bshared decision\b"
    r"|\b(?:mi socio|mi socia|mis socios|mi jefe|mi jefa) y yo\b|\byo y mi (?:socio|socia|jefe|jefa|equipo)\b"
    r"|\b(?:my (?:partner|cofounder|co-founder|boss|manager)) and i\b|\bme and my (?:partner|boss|team|manager)\b"
)


# Owners or partners deciding together are decision makers ("lo decidimos entre los socios").
# "la que firma los contratos soy yo": the visitor names themself as the one who signs, whatever
# the sentence says of others on the way.
_A_SELF_CLAIM = re.compile(
    r"\b(?:el|la|quien) que (?:aprueba|firma|decide|autoriza|paga|manda)(?: \w+){0,4} soy yo\b"
    r"|\bsoy yo (?:quien|el que|la que) (?:aprueba|firma|decide|autoriza|paga|manda)\b"
)


_A_CO_OWNERS = re.compile(
    r"\b(?:decidimos|decide(?:mos)?|lo vemos) entre (?:los|mis|nosotros los) socios\b"
    r"|\b(?:my|mi) (?:business )?(?:partner|socio|socia|cofounder|co-founder) (?:and i|y yo)\b"
    r"|\bme and my (?:business )?(?:partner|cofounder|co-founder)\b"
    r"|\b(?:somos|we are|we'?re) (?:los |las |the )?(?:duenos|duenas|owners|co-?owners|socios|founders|cofundadores)\b"
    r"|\bsomos (?:dos|tres|\d) socios\b|\b(?:con|junto con) mi soci[oa] (?:lo )?decidimos\b"
    r"|\b(?:lo decidimos|decidimos) entre (?:los dos|las dos|ambos|ambas)\b"
    r"|\bthe partners decide\b|\bone of the (?:partners|owners|founders)\b"
    r"|\b(?:and i|y yo) (?:own|are (?:the )?(?:co-?owners|owners)|somos (?:los )?(?:duenos|duenas|socios))\b"
    r"|\bown the \w+,? we decide\b|\b(?:i|we) (?:are|'re) co-?owners\b"
    r"|\b(?:la|lo) (?:manejamos|llevamos|dirigimos) (?:mi|con mi)"
    r" (?:hermano|hermana|socio|socia|esposo|esposa|marido|mujer|padre|madre)\b"
)


_A_INVOLVED = re.compile(
    r"\b(?:lo )?decidimos\b|\bentre (?:varios|todos|los socios|el equipo)\b|\bsomos varios\b"
    r"|\bvarias personas\b|\bcon mi (?:socio|socia|equipo|jefe|jefa|responsable)\b|\bjunto con\b"
    r"|\ben equipo\b|\bcomite\b|\bcompartid[ao]\b|\bconjunta(?:mente)?\b|\bparticipo\b|\bformo parte\b"
    r"|\binfluyo\b|\brecomiendo\b|\brecomendare\b|\bpropongo\b|\bpreparo\b|\bevaluo\b|\bestoy evaluando\b"
    r"|\basesoro\b|\bdoy mi opinion\b|\btengo voz\b|\bopino\b|\bconsultar(?:lo)? con\b"
    r"|\btengo que (?:hablar|consultar|comentar)(?:lo)?\b|\bnecesito (?:la )?aprobacion\b"
    r"|\b(?:se lo|lo) (?:paso|presento|traslado|propongo)\b|\bi recommend\b|\bi'?ll recommend\b"
    r"|\bi make (?:a |the )?recommendations?\b|\bi'?m (?:involved|part of)\b|\bwith my (?:team|partner"
    r"|boss|manager|cofounder|co-founder|colleagues)\b|\bwe decide\b|\btogether\b|\bi have a say\b"
    r"|\bi influence\b|\bi'?m evaluating\b|\bi evaluate\b|\bi (?:need|have) to (?:check|consult|talk to"
    r"|ask)\b|\brun it by\b|\bneeds? (?:approval|sign[- ]off)\b|\bcommittee\b|\bseveral (?:of us|people)\b"
    r"|\ba few of us\b|\bthe team\b|\bprepare the proposal\b|\bi propose\b"
    r"|\bshort ?list\w*\b|\bgather(?:ing)? quotes\b|\bcollect(?:ing)? quotes\b|\bcomparing (?:vendors|options|quotes)\b"
    r"|\bcotiza(?:r|ndo|ciones)\b|\bjuntando (?:cotizaciones|presupuestos|propuestas)\b|\brecomendacion\b"
    r"|\brecommendation\b|\bevaluating (?:tools|vendors|options)\b|\bevaluando (?:herramientas|proveedores|opciones)\b"
    r"|\bon behalf of (?:a |my |our )?client\b|\bpara un cliente\b|\bpara (?:mi|nuestro) cliente\b"
    r"|\bpreseleccion\w*\b|\bse la paso\b|\bcomparativa\b|\bhelping (?:my|the|our) \w+ (?:pick|choose|decide)\b"
    r"|\blista corta\b|\bbenchmark\b|\ble ayudo a (?:escoger|elegir|decidir)\b|\ble digo (?:que|lo que) conviene\b"
    r"|\b(?:do|doing) the research\b|\bpresent (?:the )?options\b"
)


_A_ANSWER_ME = re.compile(
    r"^(?:si|yes|yep|yeah|claro|of course|por supuesto)?[\s,.!]*(?:yo|yo mismo|yo misma|yo mer[oa]|me|myself|i do"
    r"|i|mine|si|yes|yep|yeah|claro|of course|por supuesto)[\s.!]*$"
)


_A_ANSWER_WE = re.compile(r"^(?:nosotros|nosotras|we|us|we do|the team|el equipo|todos|all of us)[\s.!]*$")


_A_ANSWER_OTHER = re.compile(
    r"^(?:(?:pues|well|bueno)\s+)?(?:mi|mis|el|la|los|las|nuestro|nuestra|my|the|our)\s+(?:jefe|jefa|jefes"
    r"|superior|responsable|director|directora|gerente|dueno|duena|ceo|cfo|cto|consejo|comite|direccion"
    r"|gerencia|propietario|boss|manager|owner|board|management|founder|supervisor|president|presidente"
    r"|director general|managing director)(?:\s+\w+){0,3}[\s.!]*$|^(?:gerencia|direccion|no|nope|ceo|cfo)[\s.!]*$"
)


@never_raises
def parse_authority(text: str, lang: str = "es", *, requested: bool = True) -> Authority | None:
    """Buying role: decision_maker, influencer, user or none.

    Phrases are combined, not just matched: "preparo la propuesta pero aprueba el CFO"
    names a decider (the CFO) and the visitor's part in it, so it is an influencer.
    """
    t = fold(text)
    if _A_NONE.search(t):
        return Authority("none", 0.9)
    if _A_SELF_CLAIM.search(t):
        return Authority("decision_maker", 0.9)
    other = _A_OTHER.search(t)
    t_self = _A_OTHER.sub(" ", t) if other else t
    # The visitor's own title, from the role taxonomy (leadqual/understanding/roles.py).
    role = roles.title_level(t, claimed_only=not requested)
    if role is not None and role.level == "none":
        return Authority("none", 0.85)
    self_decides = _A_SELF_DECIDES.search(t_self)
    dm_title = _A_DM_TITLE.search(t_self) or _A_OWN_BUSINESS.search(t_self)
    mid_title = _A_MID_TITLE.search(t_self)
    shared = _A_SHARED_STRONG.search(t)
    involved = _A_INVOLVED.search(t)
    senior = role is not None and role.level in ("decision_maker", "influencer")
    if _A_CO_OWNERS.search(t):
        return Authority("decision_maker", 0.85)
    if shared:
        return Authority("influencer", 0.9)
    # Someone else decides or signs: the title says how much the visitor weighs in it.
    if other and (self_decides or dm_title or mid_title or involved or senior):
        return Authority("influencer", 0.85)
    if other:
        return Authority("user", 0.9)
    if self_decides and involved and requested:
        return Authority("influencer", 0.75)
    if self_decides:  # "just an analyst, but the budget is mine": the clause beats the title
        return Authority("decision_maker", 0.95)
    if dm_title:
        return Authority("decision_maker", 0.9)
    if not requested:
        return Authority(role.level, 0.8) if role is not None else None
    if involved:
        return Authority("influencer", 0.8)
    if role is not None:
        return Authority(role.level, 0.85)
    if mid_title:
        return Authority("decision_maker", 0.7)
    if _A_USER_ONLY.search(t):
        return Authority("user", 0.8)
    if _A_ANSWER_ME.match(t):
        return Authority("decision_maker", 0.8)
    if _A_ANSWER_WE.match(t):
        return Authority("influencer", 0.6)
    if _A_ANSWER_OTHER.match(t):
        return Authority("user", 0.7)
    return None
