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
    r"|\bstudent\b|\bfor (?:a |my )?(?:class|school(?! district| board| trust)|college|university|uni|homework|thesis"
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
    r"|\b(?:no compro|no compramos|not buying) (?:nada|anything)\b(?! (?:until|hasta|before|antes|this|este|yet))"
    r"|\bnosing around\b|\ba friend sent me\b"
    r"|\b(?:entrevista de trabajo|vacante|aplicando a|postulando a|postulo a)\b|\brecruiter\b|\breclutador[a]?\b"
    r"|\b(?:escribo|tengo) un blog\b|\b(?:writing|write) a (?:comparison |review )?(?:blog|article|post)\b"
    r"|\breviews? de software\b|\bsoftware reviews?\b|\bresearching the (?:\w+ )?market\b"
    r"|\bviendo como lo hacen\b|\bde otra empresa de software\b"
    r"|^estudio (?:administracion|derecho|marketing|ingenieria|economia|informatica|empresariales|publicidad)\b"
)


# More reasons for no buying role, one list per kind of reason (alternatives of one regex).
_NONE_JOB_SEEKING = (
    r"(?:teneis|tienen|hay|tendran|tienes) (?:alguna )?vacantes?|(?:estan|estais) (?:contratando|buscando gente)"
    r"|trabajar para (?:vosotros|ustedes)",
    r"(?:mande|envie|les mande|os mande|te mande|deje) (?:mi |el )?(?:cv|curriculum|hoja de vida)",
    r"me (?:quede|quedé) sin (?:chamba|trabajo|empleo|pega|laburo|curro)|me (?:despidieron|echaron)",
    r"(?:busco|buscando|estoy buscando) (?:unas |mis )?(?:practicas|pasantias?|trabajo|empleo|curro)",
    r"job[- ]?hunting|between jobs|(?:got|was|been) (?:laid off|made redundant|let go)|out of work",
    r"(?:are|is) (?:you|anyone|your company) hiring|(?:love|like|want) to work (?:there|for you)",
    r"applied (?:for|to) (?:the|a|an|your) (?:\w+ ){0,2}(?:role|job|position|opening|vacancy)|my (?:cv|resume)",
)
_NONE_LEARNING = (
    r"cursando|(?:llevando|haciendo|tomando) un (?:curso|master|diplomado)|caso practico|nos pidieron investigar",
    r"bootcamp|dissertation|phd (?:student|candidate|researcher)|(?:doing|my) (?:a )?phd|doctorand[oa]"
    r"|(?:tarea|deberes) del (?:cole|colegio|instituto)",
    r"es (?:solo )?para aprender|para aprender(?= por mi cuenta|\s*$|\s*[,.;!])|just learning"
    r"|(?:aprendiendo|learning) (?:\w+ ){0,3}(?:por mi cuenta|on my own)",
    r"i teach (?:a |an )?(?:\w+ )?(?:class|course|students)|doy clases? de|we had to compare",
    # the visitor's age, as a whole clause: "I'm 16 and...", not "tengo 15 años de experiencia"
    r"(?:i'?m|tengo) 1[3-7](?: years old| anos)?(?= and\b| y\b|\s*$|\s*[,.;!])",
)
_NONE_MEDIA = (
    r"informe periodistico|podcaster|(?:tengo|hago) un podcast|(?:my|i host a|i run a) podcast"
    r"|(?:tengo un|mi) canal de (?:youtube|twitch|tiktok)|(?:my|a) (?:youtube|tiktok|twitch) channel",
    r"i review (?:saas|software|tools|apps)|resen(?:o|as) (?:de )?(?:software|saas|herramientas)",
    r"competitive analysis for|analisis de (?:la )?competencia para|for (?:another|a rival|a competing) vendor"
    r"|para otro proveedor",
)
_NONE_NOT_BUYING = (
    r"no tengo (?:ni )?(?:empresa|negocio|compania)|no estoy en (?:ninguna|una) empresa"
    r"|not (?:at|with|in) (?:any|a) company",
    r"persona (?:natural|fisica)|no es para (?:ningun|un) negocio",
    r"(?:esto |eso )?no lo necesito(?= para mi|\s*$|\s*[,.;!])",
    # not buying at all, as a whole clause ("no vamos a comprar nada hasta enero" is timing, not role)
    r"(?:not buying (?:for )?(?:anything|anyone)|no (?:vamos|voy) a comprar(?: nada)?"
    r"|not (?:going|planning) to buy(?: anything)?)(?=\s*$|\s*[,.;!]| (?:just|solo)\b)",
    r"nothing to do with me|nada que ver conmigo",
    r"wrong (?:site|page|website|chat)|me equivoque de (?:pagina|web|sitio|chat)",
    r"for (?:a|my) (?:blog|newsletter)|para (?:un|mi) blog",
    r"pura curiosidad|vine a (?:chusmear|curiosear)|solo queria (?:ver|mirar)(?= nada|\s*$|\s*[,.;!])",
)
_A_NONE_MORE = re.compile(
    r"\b(?:" + "|".join(_NONE_JOB_SEEKING + _NONE_LEARNING + _NONE_MEDIA + _NONE_NOT_BUYING) + r")\b"
)

# An answer that starts by saying there is no role: "ninguno", "none really", "cero rol jaja".
# What follows may still give one ("nada, soy una simple currante").
_A_NO_ROLE_ANSWER = re.compile(
    r"^(?:(?:ay|uy|pues|bueno|well|honestly|la verdad)[\s,]+)?(?:no[\s,]+)?"
    r"(?:ninguno|ninguna|ningun rol|ningun|nada|cero rol|ni rol|none|no role|nobody|nothing|n/?a|no aplica"
    r"|not applicable)\b"
)


# Someone else decides (negated self-decision included: it must be checked first).
_A_OTHER = re.compile(
    r"\bno (?:lo |la )?decido yo\b|\bno (?:lo |la )?decido\b|\bno soy (?:yo )?(?:el|la|quien) (?:que )?decid"
    r"|\bno depende de mi\b|\bno es (?:mi decision|cosa mia)\b|\bno soy yo\b|\bno yo\b"
    r"|\b(?:lo |la |los |las )?(?:decide|decidira|decidiran|deciden|aprueba|aprobara|aprueban|firma|firman"
    r"|autoriza|autorizan|tiene la ultima palabra|toma la decision|elige|eligen|escoge|escogen|compra|compran)"
    r"\s+(?:mi|mis|el|la|los|las|nuestro|nuestra|otra|otro|otros|alguien|un|una|ellos|ellas|ella|gerencia"
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
    r"|(?<!\bi )\b(?:has|have|gets?) (?:the )?final (?:approval|sign[- ]off|say)\b"
    r"|\b(?:approve|approves) (?:any|all|every) (?:spend|purchase)"
    r"|\b(?:le |les )?present[oa] (?:las )?opciones a (?:la|el|los|mi)\b|\bthe (?:partners|owners|board) vote\b"
    r"|\bpass (?:your|the) (?:info|details) (?:up )?to\b|\bal final (?:el|ella) (?:dice|decide|elige)\b"
    r"|\b(?:el|ella) (?:elige|decide|escoge)\b|\b(?:he|she)'?ll decide\b"
    r"|\bnot (?:my (?:call|decision)|up to me|me)\b|\bi (?:don'?t|do not) (?:decide|make the decision)"
    r"|\bi'?m not the (?:decision[- ]maker|one who decides|one deciding)\b|\b(?:but )?(?:don'?t|do not) decide\b"
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
    r"|manager|vp)(?: and (?:the )?(?!i\b|we\b)\w+)? (?:has|have|gets?) the (?:final|last) (?:say|word|call)\b"
    r"|\b(?:the )?(?:final|last) (?:call|say|word|decision) (?:is|will be|'s|lies with"
    r"|rests with) (?:the |my |our )?(?!mine\b|me\b)\w+"
    r"|\b(?:the )?(?:board|investors|procurement|finance|ceo|cfo|owner|director|boss|manager|parent company)"
    r"(?: and (?:the )?(?!i\b|we\b)\w+)? (?:approves?|signs?(?: off)?|picks?|chooses?|decides?|selects?|pays?|buys?)\b"
    r"|\b(?:my|our|the) (?:boss|manager|director|owner|ceo|lead)(?:'s"
    r"| is) (?:the one|who) (?:who )?(?:picks|chooses|decides"
    r"|signs)\b|\bapprove[sd]? all (?:new )?(?:spend|spending|purchases)\b"
)


# More ways of saying someone else decides, one list per kind (alternatives of one regex).
_OTHER_DECIDES = (
    # a third person with a deciding verb: "he's the one who decides", "she'll be deciding"
    r"(?:he|she|they)(?:'s| is|'re| are) the (?:one|ones|person) (?:who )?(?:decides?|picks?|signs?|approves?"
    r"|chooses?)",
    r"(?:he|she|they)(?:'ll| will)(?: be)? (?:deciding|decide|choosing|signing|approving|picking)",
    r"(?:head office|hq|the partners|the owners?|the board|the ceo|the cfo|the client) (?:signs?|buys?|pays?"
    r"|votes?|picks?|chooses?)",
    r"(?:el|ella|ellos|ellas) (?:ve|ven|lleva|llevan|maneja|manejan) lo de (?:comprar|las compras|los pagos)",
    r"(?:ellos|ellas|la junta|el consejo|los socios|el directorio) (?:vota|votan|decide|deciden)",
    # the business belongs to someone else: "mi papá es el dueño", "the company is my father's"
    r"(?:mi|my) (?!(?:\w+ )?(?:rol|role|puesto|cargo|title|position|job|papel|funcion|trabajo)\b)(?:\w+ )?(?:es|is)"
    r" (?:el |la |the )?(?:duen[oa]|propietari[oa]|owner|jef[ae]|boss)",
    r"(?:mi|my) (?:\w+ )?owns (?:the|a|an|our|this)",
    r"(?:el negocio|la empresa|la tienda|el local|the company|the business|the shop|the store)"
    r" (?:es|is) (?:de )?(?:mi|my) "
    r"(?:padre|madre|papa|mama|tio|tia|hermano|hermana|abuelo|abuela|suegro|suegra|esposo|esposa|marido|mujer|jef[ae]"
    r"|dad|mom|mum|father|mother|uncle|aunt|brother|sister|husband|wife|boss)",
    r"(?:el|ella|he|she) (?:es|is) (?:el |la |the )?(?:duen[oa]|propietari[oa]|owner|jef[ae]|boss)",
    r"(?:el|ella|ellos|ellas) (?:pone|ponen) (?:la plata|el dinero|la lana|la pasta|los fondos|la guita)"
    r"|(?:he|she|they) (?:pays|pay|puts up the money|holds the purse strings)",
    # a third party who likes to keep the last word: "the owner likes to sign off on anything software"
    r"(?:the|my|our) \w+ (?:likes|wants|needs|has|prefers|insists on|gets) to (?:sign|approve|decide|pick|choose)",
    # approval someone else will give: "depende del presupuesto que apruebe el consejo"
    r"que (?:lo |la )?(?:apruebe|aprueben|decida|decidan|firme|firmen|autorice|autoricen) (?:el|la|los|las|mi|nuestro"
    r"|nuestra)",
    # approval needed from someone: "needs board approval", "necesito el ok de los socios"
    r"needs? (?!my\b)(?:\w+(?:'s)? ){1,2}(?:approval|sign[- ]off|ok)",
    r"(?:necesito|necesita|requiere) (?:el ok|el visto bueno|la aprobacion|la firma|el si|luz verde) (?:de|del)",
    r"(?:it |this |that )?(?:goes|go|has to go) (?:up )?to (?:the|my|our) (?:board|ceo|cfo|owners?|boss|management"
    r"|committee|partners|head office)",
    r"(?:le|les|se la|se lo) paso (?:la info|la informacion|los datos|todo|la propuesta) a",
    # the visitor says they are not the one: "no soy quien firma", "I'm not the one signing"
    r"no soy (?:yo )?(?:el|la|quien) (?:que )?(?:firm|aprueb|autoriz|pag)\w*",
    r"i'?m not the (?:one|person) (?:who )?(?:decides|deciding|signs|signing|approves|approving|pays|paying)",
    r"(?:i have |with )?no say|(?:sin|ni) voz ni voto|no tengo (?:ni )?voz|no pinto nada",
    # tasked by someone else: "the MD asked me to look into it", "mi jefa me dijo que buscara algo"
    r"(?:asked|told|wants|sent) me to (?:have a look|look into|look at|find|research|check)",
    r"me (?:dijo|pidio|pidieron|encargo|encargaron|mando|mandaron) (?:a |que )?(?:buscar|buscara|mirar|mirara"
    r"|investigar|investigara|ver|viera|averiguar|averiguara)",
    r"(?:i was|i'?ve been|i have been|we were|we'?ve been) (?:asked|told|tasked) (?:to|with)",
    # a relative of the owner: the business is someone else's
    r"(?:hij[oa]|espos[oa]|herman[oa]|sobrin[oa]|niet[oa]|son|daughter|wife|husband|brother|sister|nephew|niece)"
    r" (?:del|de la|of the) (?:duen[oa]|owner|propietari[oa]|jef[ae]|boss|ceo|founder|fundador[a]?)",
    r"the (?:owner|boss|ceo|founder)'s (?:son|daughter|wife|husband|brother|sister|nephew|niece|assistant|pa)",
    r"no tengo (?:ni )?(?:poder de (?:decision|compra))"
    r"|(?:no|without) (?:decision[- ]making|decision|purchasing|buying) power",
    r"(?:i )?(?:just |only )?do what (?:the|my) (?:boss|manager|owner) (?:tells|says)"
    r"|hago lo que me (?:dice|dicen|manda|mandan|piden)",
)
_A_OTHER_MORE = re.compile(r"\b(?:" + "|".join(_OTHER_DECIDES) + r")\b")


_A_USER_ONLY = re.compile(
    r"\b(?:yo )?(?:solo|nomas|solamente) (?:lo |la |los |las )?(?:usaria|usare|uso|voy a usar|lo voy a usar"
    r"|seria usuari[oa])\b"
    r"|\b(?:yo )?(?:lo )?usaria yo\b|\bsoy (?:solo )?(?:un |una )?usuari[oa]\b"
    r"|\bi'?d (?:just|only) use it\b|\bi would (?:just|only) use it\b|\bi'?d use it\b|\blo usariamos\b"
    r"|\b(?:uno|una) de (?:los|las) que lo (?:va|vamos) a usar\b|\bsoy del equipo\b"
    r"|\bsoy (?:la|el) (?:de|que) (?:atencion al cliente|soporte|ventas|contesta|carga|atiende|hace los"
    r"|lleva las cuentas)\b"
    r"|\b(?:enfermer[oa]|recepcion|dispatcher|warehouse|bodeguer[oa]|chofer|(?<!key )(?<!main )driver|cociner[oa]"
    r"|mesero|camarer[oa])\b"
    r"|\bi'?ll (?:just|only) (?:be )?us(?:e|ing) it\b|\bi'?m (?:just )?(?:a|an|the)? ?(?:end )?user\b"
    # a future user, said other ways: "one of the users", "soy el que va a usar el sistema"
    r"|\bone of the (?:end )?users\b|\b(?:uno|una) de (?:los|las) usuari[oa]s\b|\bi'?ll be using it\b"
    r"|\b(?:i'?m|i am) (?:just |only )?going to (?:be )?us(?:e|ing) it\b|\blo voy a usar yo\b"
    r"|\bvoy a ser (?:quien|el que|la que) lo use\b|\b(?:el|la|quien) que (?:lo |la )?(?:va a usar|usara|usaria)\b"
    r"|\bjust a user\b|\bsoy (?:un |una )?(?:emplead[oa]|becari[oa]|comercial|tecnic[oa]|administrativ[oa]"
    r"|asistente|analista|vendedor[a]?)\b|\bi'?m (?:an? )?(?:employee|intern|assistant|sales rep|analyst)\b"
)


_A_SELF_DECIDES = re.compile(
    r"\b(?:lo |la )?decido yo\b|\byo (?:lo |la )?decido\b|\bdecido yo\b"
    r"|\b(?:yo )?soy (?:yo )?(?:el|la|quien) (?:que )?(?:decide|firma|manda|aprueba)\b"
    r"|\bsoy yo (?:quien|el que|la que) decid\w*|\b(?:quien|el que|la que) decide soy yo\b"
    r"|\bla (?:ultima |final )?decision(?: final| ultima)? (?:es|sera|va a ser) (?:mia|mio)\b|\bdecision mia\b"
    r"|\b(?:me toca|me corresponde)(?: a mi)? (?:decidir|la decision|aprobar|firmar|elegir|escoger)\b"
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
    r"|\bel presupuesto (?:(?:de|del) (?:mi |la |el )?\w+ )?(?:lo )?(?:manejo|controlo|llevo|decido|tengo) yo\b"
    r"|\b(?:my own|mi propio) budget\b|\bmi propio presupuesto\b|\btengo presupuesto propio\b"
    r"|\b(?:el|la) que (?:aprueba|firma|decide|autoriza|paga)(?: \w+){0,3} soy yo\b"
    r"|\bla decision(?: de compra| final)? es mia\b"
    r"|\bi'?m the (?:one|guy|person|man|woman|girl) who (?:approves|signs|decides|okays|pays)\b"
    r"|\bi (?:approve|sign off on) (?:the )?spend\w*\b"
    # Authority handed to the visitor: "me delegó la decisión", "the owner handed this decision to me".
    r"|\bme (?:dejo|dejaron|deja|dejan|ha dejado|han dejado) (?:a mi )?(?:elegir|decidir|escoger|la decision)\b"
    r"|\b(?:me (?:lo |la )?(?:delego|delegaron|ha delegado|han delegado))(?= esto| eso| el tema| la compra| todo|\s*$"
    r"|\s*[,.;!])|\bleft (?:it|this|the decision|the choice) (?:up )?to me\b"
    r"|\b(?:been given|was given|got|given) the budget\b"
    r"|\bme (?:dio|dieron|ha dado|han dado|delego|delegaron|ha delegado|han delegado|paso|pasaron|cedio|confio)"
    r" (?:el ok|luz verde|la decision|autorizacion|autoridad|permiso|carta blanca|el presupuesto)\b"
    r"|\b(?:tengo|con) (?:autonomia|autoridad|libertad) (?:total |completa |plena )?(?:para|de)"
    r" (?:elegir|decidir|comprar|contratar)\b"
    r"|\b(?:quien|el que|la que) tiene la ultima palabra(?: \w+){0,3} soy yo\b"
    r"|\bel presupuesto (?:del area |del departamento |de \w+ )?es mio\b"
    r"|\b(?:handed|delegated|gave|left) (?:this |the )?(?:decision|call|budget) (?:to me|over to me)\b"
    r"|\b(?:told|asked) me to (?:pick|choose|buy|sign)(?: \w+){0,3} and (?:buy|sign|pay)\b"
    r"|(?<!not )(?<!not the )(?<!one of the )\b(?:the |a |main |final |key |sole )?decision[- ]?maker\b(?!s)"
    r"|(?<!no )\btengo (?:el )?poder de (?:decision|compra)\b|(?<!no )(?<!without )\b(?:decision[- ]making|purchasing"
    r"|buying) power\b"
    # a business of one: "it's just me", "solo yo", "soy yo solito", "a one-man band"
    r"|(?:\bit'?s |^)(?:just|only) me(?=\s*$|\s*[,.;!])|^(?:solo|solamente|nomas) yo[\s.!]*$|\bsoy yo solit[oa]\b"
    r"|^yo solit[oa][\s.!]*$|\bone[- ](?:man|woman|person) (?:band|show|business|operation)\b"
    r"|\btomador[a]? de (?:las )?decisiones\b|\bi'?m the (?:big )?boss\b"
    r"|\bi (?:have|hold|get) (?:the )?final (?:approval|sign[- ]off|say|word)\b|\b(?:final|last) approver\b"
    r"|\bi'?m the approver\b|\bbudget owner\b"
    r"|\bi have (?:the )?(?:company card|budget authority|purchasing authority|sign-?off authority)\b"
    r"|\b(?:given|gave|granted) me (?:full |complete |total |the )?(?:authority|autonomy|sign[- ]off|free rein"
    r"|carte blanche|green light)\b"
    # a second verb of the visitor's: "I oversee sales ops and approve the spend"
    r"|(?:^|\bi |\band |, ?)(?:approve|sign off on|sign|control|hold) (?:the |all |our )?(?:spend\w*|budget"
    r"|purchases?|contracts?)\b"
    r"|\bneeds? my (?:approval|sign[- ]off|ok|signature)\b|\bnecesita(?:n)? mi (?:aprobacion|firma|visto bueno|ok)\b"
    r"|\bla decision(?: final)? es (?:100 ?%|toda|totalmente|completamente|enteramente|solo) mia\b"
    # the money comes from the visitor's own budget: "it'd come out of my budget", "saldría de mi partida"
    r"|\b(?:out of|from) my (?:own )?(?:\w+ )?budget\b|\bsal(?:e|dria|dra) de mi (?:propi[oa] )?(?:partida"
    r"|presupuesto)\b"
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


_SELF = r"(?<!\bno )\b(?:soy|yo soy|como|i'?m|i am|as|im)\s+(?:el |la |un |una |the |a |an )?(?:propi[oa] )?"


_A_DM_TITLE = re.compile(rf"{_SELF}(?:{_DM_TITLES})\b(?!'s)")


_A_MID_TITLE = re.compile(rf"{_SELF}(?:{_MID_TITLES})\b(?!'s)")


_A_OWN_BUSINESS = re.compile(
    r"\b(?:la|lo) funde yo\b|\bfunde (?:la|el) (?:empresa|negocio|estudio|agencia|tienda)\b|\bsoy (?:el |la )?titular\b"
    r"|\b(?:la |el )?jef[ae] de todo(?: esto)? soy yo\b|\bes mi[oa]\b(?=.*\b(?:llevo|tengo|dirijo|manejo)\b)"
    r"|\brepresentante legal\b|\btengo (?:una |mi )?(?:tiendita|tienda|empresita|negocito|pyme)\b"
    r"|\b(?:soy|i'?m|i am) (?:un |una |a |an )?(?:autonom[oa]|freelance|freelancer|self[- ]employed"
    r"|emprendedor[a]?|entrepreneur|independiente|solopreneur)\b|\btrabajo por mi cuenta\b"
    r"|\bmi propi[oa] (?:empresa|negocio|consultora|agencia|tienda|estudio|despacho|clinica|startup)\b"
    r"|\bmy own (?:company|business)\b|\bi own (?:the|a|my|this) (?:company|business)\b"
    r"|\bi own (?:it|this place)(?=\s*$|\s*[,.;!])|\byo (?:la|lo) (?:dirijo|manejo|administro)\b"
    r"|\bes mi (?:empresa|negocio)\b|\btengo (?:una|mi) (?:empresa|negocio|tienda|agencia|startup)\b"
    r"|\b(?:it'?s|is) my (?:company|business)\b"
    r"|\bi (?:started|founded|set up|built|co-?founded) (?:the|this|my|our|a) (?:\w+ )?(?:company|business|firm|agency"
    r"|startup|shop|practice)\b"
    # self-employed named alone: buying for their own business
    r"|^(?:autonom[oa]|freelance(?:r)?|self[- ]employed|sole trader|solopreneur|emprendedor[a]?|entrepreneur)[\s.!]*$"
)


_A_SHARED_STRONG = re.compile(
    r"\b(?:lo |la )?(?:decido|decidimos|decidiremos|decidire|decidiriamos)\s+(?:yo\s+)?(?:con|junto con|entre"
    r"|en equipo|juntos|conjuntamente)\b|\b(?:lo |la )?decidimos entre\b"
    r"|\b(?:decide|decidir|decision)\w* (?:con|junto a|junto con) mi\b"
    r"|\bwe (?:all )?decide (?:together|as a team|jointly)\b|\bi decide with\b|\bdecide (?:it )?with my\b"
    r"|\bpart of the decision\b|\bjoint decision\b|\bshared decision\b"
    r"|\b(?:mi socio|mi socia|mis socios|mi jefe|mi jefa) y yo\b|\byo y mi (?:socio|socia|jefe|jefa|equipo)\b"
    r"|\b(?:my (?:partner|cofounder|co-founder|boss|manager)) and i\b|\bme and my (?:partner|boss|team|manager)\b"
    # the visitor and a named senior deciding together: "it's me and the CFO who'll decide"
    r"|\bme and (?:the|my|our) (?:boss|manager|cfo|ceo|coo|cto|director|owner|vp|md|gm)\b"
    r"|\bentre (?:el|la|mi) (?:jefe|jefa|gerente|director|directora|ceo|cfo|duen[oa]) y yo\b"
    # a vote among several: "it's a group vote", "solo tengo un voto"
    r"|\b(?:group|board|team|committee) vote\b|\bit'?s a vote\b|\bput (?:it )?to a vote\b|\b(?:we|nosotros) vote\b"
    r"|\bvotamos\b|\b(?:solo )?tengo (?:un|mi) voto\b|\bi (?:have|get) (?:one|a|my) vote\b|\bone vote\b"
)


# Owners or partners deciding together are decision makers ("lo decidimos entre los socios").
# "la que firma los contratos soy yo": the visitor names themself as the one who signs, whatever
# the sentence says of others on the way.
_A_SELF_CLAIM = re.compile(
    r"\b(?:el|la|quien) que (?:aprueba|firma|decide|autoriza|paga|manda)(?: \w+){0,4} soy yo\b"
    r"|\b(?<!no )soy (?:yo )?(?:quien|el que|la que) (?:aprueba|firma|decide|autoriza|paga|manda|toma las? decision)"
    r"|\b(?:el|la) (?:jef[ae]|duen[oa]|propietari[oa]|gerente|director[a]?)(?: \w+){0,2} soy yo\b"
)


_A_CO_OWNERS = re.compile(
    r"\b(?:decidimos|decide(?:mos)?|lo vemos) entre (?:los|mis|nosotros los) socios\b"
    r"|\b(?:my|mi) (?:business )?(?:partner|socio|socia|cofounder|co-founder) (?:and i|y yo)\b"
    r"|\bme and my (?:business )?(?:partner|cofounder|co-founder)\b"
    r"|\b(?:somos|we are|we'?re) (?:los |las |the )?(?:duenos|duenas|owners|co-?owners|socios|founders|cofundadores)\b"
    r"|\bsomos (?:dos|tres|\d) socios\b|\b(?:con|junto con) mi soci[oa] (?:lo )?decidimos\b"
    r"|\b(?:lo decidimos|decidimos) entre (?:los dos|las dos|ambos|ambas)\b"
    r"|\bthe partners decide\b|\bone of the (?:two |three |\d )?(?:partners|owners|founders)\b"
    r"|\b(?:and i|y yo) (?:own|are (?:the )?(?:co-?owners|owners)|somos (?:los )?(?:duenos|duenas|socios))\b"
    r"|\bown the \w+,? we decide\b|\b(?:i|we) (?:are|'re) co-?owners\b"
    r"|\b(?:duen[oa]|socio|socia|owner|co-?owner|propietari[oa])s? (?:junto )?(?:con|with) (?:mi|my) (?:hermano|hermana"
    r"|esposo|esposa|marido|mujer|padre|madre|socio|socia|brother|sister|wife|husband|partner|dad|mom|mum)\b"
    r"|\b(?:la|lo) (?:manejamos|llevamos|dirigimos) (?:mi|con mi)"
    r" (?:hermano|hermana|socio|socia|esposo|esposa|marido|mujer|padre|madre)\b"
)


_A_INVOLVED = re.compile(
    r"\b(?:lo )?decidimos\b|\bentre (?:varios|todos|los socios|el equipo)\b|\bsomos varios\b"
    r"|\bvarias personas\b|\bcon mi (?:socio|socia|equipo|jefe|jefa|responsable)\b|\bjunto con\b"
    r"|\ben equipo\b|\bcomite\b|\bcompartid[ao]\b|\bconjunta(?:mente)?\b|\bparticipo\b|\bformo parte\b"
    r"|\binfluyo\b|\brecomiendo\b|\brecomendare\b|\bpropongo\b|\bpreparo\b|\bevaluo\b|\bestoy evaluando\b"
    r"|\basesoro\b|\bdoy mi opinion\b|\b(?<!no )(?<!ni )tengo voz\b|\bopino\b|\bconsultar(?:lo)? con\b"
    r"|\btengo que (?:hablar|consultar|comentar)(?:lo)?\b|\bnecesito (?:la )?aprobacion\b"
    r"|\b(?:se lo|lo) (?:paso|presento|traslado|propongo)\b|\bi recommend\b"
    r"|(?<!they )(?<!he )(?<!she )(?<!will )\brecommend(?:ing)?\b|\bi'?ll recommend\b"
    r"|\bi make (?:a |the )?recommendations?\b|\bi'?m (?:involved|part of)\b|\bwith my (?:team|partner"
    r"|boss|manager|cofounder|co-founder|colleagues)\b|\bwe decide\b|\btogether\b|\bi have a say\b"
    r"|\bi influence\b|\bi'?m evaluating\b|\bi evaluate\b|\bi (?:need|have) to (?:check|consult|talk to"
    r"|ask)\b|\brun it by\b|\bneeds? (?:approval|sign[- ]off)\b|\bcommittee\b|\bseveral (?:of us|people)\b"
    r"|\ba few of us\b|\bthe team\b|\bprepare the proposal\b|\bi propose\b"
    r"|\bshort ?list\w*\b|\bgather(?:ing)? quotes\b|\bcollect(?:ing)? quotes\b|\bcomparing (?:vendors|options|quotes)\b"
    r"|\bcotiza(?:r|ndo|ciones)\b|\bjuntando (?:cotizaciones|presupuestos|propuestas)\b|\brecomendacion\b"
    r"|\brecommendation\b|\bevaluating (?:tools|vendors|options)\b|\bevaluando (?:herramientas|proveedores|opciones)\b"
    r"|\bon behalf of (?:a |my |our )?client\b|\bfor (?:a|our|my) clients?\b|\bpara un cliente\b"
    r"|\bpara (?:mi|nuestro) cliente\b"
    r"|\bpreseleccion\w*\b|\bse la paso\b|\bcomparativa\b|\bhelping (?:my|the|our) \w+ (?:pick|choose|decide)\b"
    r"|\blista corta\b|\bbenchmark\b|\ble ayudo a (?:escoger|elegir|decidir)\b|\ble digo (?:que|lo que) conviene\b"
    r"|\b(?:do|doing) the research\b|\bpresent (?:the )?options\b"
    r"|\b(?:a )?(?:big|a lot of|some|real) say\b|\bmi (?:voz|opinion) (?:pesa|cuenta)\b"
    r"|\b(?<!no )tengo (?:mucho )?peso\b"
    r"|\bpart of a (?:group|team|panel|committee)\b|\blooking at (?:options|vendors|tools)\b"
    r"|\b(?:soy |i'?m )?(?:parte|miembro|part|member) (?:del|de la|of the) (?:equipo|grupo|team|group) (?:que|that"
    r"|who) (?:evalua|decide|elige|escoge|evaluates|decides|chooses|picks)\b|\bevaluamos\b|\bestamos evaluando\b"
    r"|\bwe(?:'re| are) evaluating\b|\bthe one researching\b|\bi'?m (?:the one )?researching\b|\bi research\b"
    r"|\b(?:investigo|estoy investigando) (?:opciones|proveedores|herramientas|alternativas|para)\b"
    r"|\bresearch(?:ing)? for (?:my|the|our)\b|\bevaluating (?:\w+ )?(?:for|on behalf of)\b|\bevaluando (?:\w+ )?para\b"
    r"|\bbusiness case\b|\bcaso de negocio\b|\barmo (?:la|el|una|un) (?:propuesta|comparativa|informe)\b"
    r"|\b(?:write|writing|put together|putting together) (?:the|a) (?:proposal|comparison|recommendation)\b"
    r"|\bone of the decision[- ]?makers\b|\b(?:influencer|influenciador[a]?|influyente)[\s.!]*$"
    r"|\bi (?:have|give) (?:some )?input\b"
    r"|\b(?:need|have) to get (?:\w+ )?(?:approval|sign[- ]off|the ok|the green light)\b"
    r"|\bget (?:it )?approved by\b|\bnecesito que lo (?:apruebe|autorice|firme)\b"
    r"|\btengo que pedir(?:le)? (?:permiso|autorizacion|aprobacion|el visto bueno)\b|\brun it past\b"
    r"|\bi(?:'d| would)? (?:need|have) to (?:check|consult|talk to|ask|run it)\b"
    r"|\bpresent(?:ing)? (?:this|it|the options?|a proposal|my recommendation) to\b"
    r"|\bgather(?:ing)? (?:the )?requirements\b|\blevanto (?:los )?requerimientos\b"
    r"|\bsteering (?:group|committee)\b|\bi chair\b|\b(?:le |les )?presento (?:la|una|mi) propuesta\b"
)


# A decision of the visitor's said negated: "no me toca decidir", "no tengo la última palabra", "no firmo yo".
# "el encargado de sistemas soy yo" says "soy el encargado de sistemas": read it that way round.
_TITLE_THEN_ME = re.compile(r"(^|[,.;!] ?)(el|la) (?!que\b)((?:\w+ ){0,4}?\w+) soy yo\b")
_NEGATED_BEFORE = re.compile(r"\b(?:no|not|nunca|never|ni|tampoco)\s+(?:lo\s+|la\s+|me\s+|yo\s+)?$")


def _own_decision(t: str) -> tuple[re.Match[str] | None, re.Match[str] | None]:
    """The first decision clause of the visitor's that is not negated, and the first negated one."""
    kept = denied = None
    for match in _A_SELF_DECIDES.finditer(t):
        if _NEGATED_BEFORE.search(t[: match.start()]):
            denied = denied or match
        else:
            kept = kept or match
    return kept, denied


_A_ANSWER_ME = re.compile(
    r"^(?:si|yes|yep|yeah|claro|of course|por supuesto)?[\s,.!]*(?:yo|yo mismo|yo misma|yo mer[oa]|me|myself|i do"
    r"|i|mine|si|yes|yep|yeah|claro|of course|por supuesto)[\s.!]*$"
)


_A_ANSWER_WE = re.compile(r"^(?:nosotros|nosotras|we|us|we do|the team|el equipo|todos|all of us)[\s.!]*$")


_A_ANSWER_OTHER = re.compile(
    r"^(?:(?:pues|well|bueno)\s+)?(?:mi|mis|el|la|los|las|nuestro|nuestra|my|the|our)\s+(?:jefe|jefa|jefes"
    r"|superior|responsable|director|directora|gerente|dueno|duena|ceo|cfo|cto|consejo|comite|direccion"
    r"|gerencia|propietario|boss|manager|owner|board|management|founder|supervisor|president|presidente"
    r"|director general|managing director|junta|directorio|accionistas|socios|matriz|casa matriz|head office"
    r"|investors|partners|owners|duenos)(?:\s+\w+){0,3}[\s.!]*$"
    r"|^(?:gerencia|direccion|no|nope|ceo|cfo|head office|hq|la matriz|casa matriz)[\s.!]*$"
)


@never_raises
def parse_authority(text: str, lang: str = "es", *, requested: bool = True) -> Authority | None:
    """Buying role: decision_maker, influencer, user or none.

    Phrases are combined, not just matched: "preparo la propuesta pero aprueba el CFO"
    names a decider (the CFO) and the visitor's part in it, so it is an influencer.
    """
    t = roles.correct_title_typos(roles.expand_abbreviations(fold(text)))
    t = _TITLE_THEN_ME.sub(r"\1soy \2 \3", t)
    if _A_NONE.search(t) or _A_NONE_MORE.search(t):
        return Authority("none", 0.9)
    if _A_SELF_CLAIM.search(t):
        return Authority("decision_maker", 0.9)
    other = _A_OTHER.search(t) or _A_OTHER_MORE.search(t)
    t_self = _A_OTHER_MORE.sub(" ", _A_OTHER.sub(" ", t)) if other else t
    # The visitor's own title, from the role taxonomy (leadqual/understanding/roles.py).
    role = roles.title_level(t, claimed_only=not requested)
    if role is not None and role.level == "none":
        return Authority("none", 0.85)
    self_decides, denied = _own_decision(t_self)
    other = other or denied
    dm_title = _A_DM_TITLE.search(t_self) or _A_OWN_BUSINESS.search(t_self)
    mid_title = _A_MID_TITLE.search(t_self)
    shared = _A_SHARED_STRONG.search(t)
    involved = _A_INVOLVED.search(t)
    senior = role is not None and role.level in ("decision_maker", "influencer")
    if requested and _A_NO_ROLE_ANSWER.match(t) and not self_decides:
        if other or _A_USER_ONLY.search(t):
            return Authority("user", 0.8)
        return Authority(role.level, 0.8) if role is not None else Authority("none", 0.85)
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
