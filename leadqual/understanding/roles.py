"""Job titles and roles -> buying level: the role taxonomy behind the authority answer.

A visitor answering "what is your role in the decision?" often gives only a title ("co-founder",
"Head of Growth", "jefa de compras", "SDR"). Each title belongs to a family, and each family
has the level a B2B sales rep would record for it when nothing else is said:

- decision_maker: executives, founders, owners, partners, general managers; department heads
  (VP, head of, director, "jefe de <área>");
- influencer: managers, team leads, coordinators, supervisors, consultants evaluating for a
  client, procurement gathering quotes, committee members;
- user: individual contributors (reps, SDRs, analysts, developers, assistants, interns, agents);
- none: no buying role (students, job seekers, journalists, competitors, researchers, teachers).

What the visitor says about who decides or signs overrides the title; that part stays in
leadqual/understanding/parsing/authority.py (parse_authority), which asks this module only for the
visitor's own title. Patterns match text normalised by parsing.normalize (lower case, no accents);
expand_abbreviations ("gte. gral.") and correct_title_typos ("cordinadora") prepare it. A title the
visitor denies ("no soy el dueño"), had ("former CEO") or seconds ("deputy head", "directora adjunta")
is not taken at its family's level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadqual.understanding.parsing.common import plural_equal, within_one_edit


@dataclass(frozen=True)
class Family:
    name: str
    level: str
    pattern: re.Pattern[str]


def _family(name: str, level: str, *alternatives: str) -> Family:
    return Family(name, level, re.compile(r"\b(?:" + "|".join(alternatives) + r")\b"))


# A word before a title that is part of it ("sales manager"), never an article or possessive.
_W = (
    r"(?!(?:my|mi|mis|tu|tus|su|sus|the|our|your|their|his|her|el|la|los|las|a|an|un|una|nuestro|nuestra"
    r"|i|im|soy|as|como|and|y|del|de|of|for|to|al|para|con|with|deputy|assistant)\b)\w+"
)

# The areas a department or team is named by. After a verb ("dirijo ventas", "I run marketing") only
# these count, so "llevo 3 años" or "I run the project" is no role; after a title ("director de X")
# any word does (_AREA).
_KNOWN_AREA = (
    # "it" followed by another word is the pronoun ("run it past the owner"), not the IT department
    r"(?:marketing|ventas|comercial|operaciones|finanzas|tecnologia|ti"
    r"|it(?! (?!department|dept|team|area|guy|girl|person|lady|support|ops|manager|director)\w)"
    r"|sistemas|compras|rrhh|recursos humanos"
    r"|producto|datos|growth|crecimiento|atencion al cliente|soporte|servicio al cliente|clientes|customer \w+"
    r"|sales|operations|ops|revops|sales ops|marketing ops|finance|technology|engineering|ingenieria|product|data"
    r"|support|procurement"
    r"|purchasing|people|hr|revenue|digital|ecommerce|e-commerce|administracion|logistica|logistics"
    r"|innovacion|innovation|estrategia|strategy|negocio|business development|desarrollo de negocio"
    r"|atencion a(?:l)? clientes?|telesales|telemarketing|inside sales|field sales)"
)
_AREA = _KNOWN_AREA[:-1] + r"|\w+)"
_BUSINESS = (
    r"(?:empresa|compania|negocio|agencia|startup|firma|pyme|tienda|consultora|estudio|despacho|clinica"
    r"|restaurante|cafeteria|bar|hotel|hostal|taller|gimnasio|panaderia|farmacia|ferreteria|inmobiliaria"
    r"|constructora|fabrica|franquicia|academia|bufete"
    r"|company|business(?! development| unit)|agency|firm|shop|store|practice|studio|clinic|restaurant|cafe"
    r"|bakery|salon|gym|garage|workshop|factory|franchise|pharmacy)"
)
# What a "jefe de" runs when it is a crew, shift or site rather than a department: a team lead.
_CREW = r"(?:equipo|grupo|turno|proyecto|seccion|tienda|obra|cuadrilla|almacen|bodega|linea|piso|sala|caja)"
_GROUP = r"(?:equipo|equipito|grupo|grupito|team|group|squad|reps|agents|agentes|vendedores|comerciales)"

# A no-buying-role word right after or before a title only qualifies it: "head teacher" runs the
# school, "coordinador académico" and "academic director" are staff ("lo académico" is no title at all).
_TITLE_NOUN = r"(?:coordinator|director|dean|head|manager|lead|officer|advisor|affairs)"
_NOT_AFTER_TITLE = r"(?<!head )(?<!coordinador )(?<!coordinadora )(?<!director )(?<!directora )(?<!jefe )(?<!jefa )"

# Order matters: the first family whose pattern matches a title wins, so the specific
# ("gerente de proyecto", "jefe de equipo") comes before the general ("gerente", "jefe de X").
FAMILIES: tuple[Family, ...] = (
    _family(
        "no_buying_role",
        "none",
        r"estudiante|alumn[oa]|universitari[oa]|becad[oa] de investigacion|student",
        r"buscando (?:trabajo|empleo|chamba|pega|laburo)|busco (?:trabajo|empleo|chamba|pega|laburo)",
        r"(?:looking for|seeking) (?:a )?(?:job|work|position|role)|job ?seeker|candidat[oa]",
        r"periodista|reporter[oa]?|journalist|blogger[oa]?|bloguer[oa]|youtuber"
        r"|influencer de|redactor[a]? de un (?:medio|blog)",
        r"(?:trabajo|estoy) (?:en|para) (?:una empresa de )?(?:la )?competencia|competidor[a]?"
        r"|competitor|(?:work|working) for a competitor",
        _NOT_AFTER_TITLE
        + r"(?:investigador[a]?|researcher|academic(?! "
        + _TITLE_NOUN
        + r")|profesor[a]?|profe|docente|teacher"
        r"|lecturer|maestr[oa])",
        r"podcaster|ama de casa|duen[oa] de casa|housewife|homemaker|stay[- ]at[- ]home \w+",
    ),
    _family(
        "executive",
        "decision_maker",
        r"ceo|cfo|cto|coo|cmo|cio|cro|cpo|cso|chro|cdo|c-level|chief \w+(?: \w+)? officer|chief executive",
        r"co-?fundador[a]?|cofundador[a]?|fundador[a]?|co-?founder|cofounder|founder|founding partner",
        r"duen[oa]|propietari[oa]|(?<!product )(?<!process )owner|business owner|proprietor",
        r"socio(?: fundador| director| gerente| principal| mayoritario)?|socia(?: fundadora| directora| gerente)?",
        r"(?:managing |senior |equity )?partner(?! (?:company|manager))",
        r"managing director|md|general manager|gm|director[a]? general|gerente general|director[a]? ejecutiv[oa]",
        # "gerente" alone, and being in charge of everything: the one who runs the business
        r"gerente(?=\s*$|\s*[,.;!?])"
        r"|(?:^|i'?m |i am |estoy )(?:in charge|a cargo)(?: de todo| of everything)?(?: here| aqui| aca)?"
        r"(?=\s*$|\s*[,.;!?])"
        r"|(?:me encargo|me ocupo) de todo",
        # the head of an institution: a school, a university, a town
        r"principal(?! (?:engineer|consultant|designer|analyst|developer|architect|scientist|investigator))"
        r"|headmaster|headmistress|headteacher|rector[a]?|dean|decan[oa]|alcalde(?:sa)?",
        # the general manager of a branch runs it: "gerente de sucursal", "branch manager"
        r"gerente de (?:la )?(?:sucursal|filial)|branch manager|chief exec",
        r"consejer[oa] delegad[oa]|administrador[a]? unic[oa]|presidente|presidenta|president|executive director",
        r"administrador[a]? (?:de |del )(?:la |el )?" + _BUSINESS + r"|jef[ae](?=\s*$|\s*[,.;!?])",
        r"mer[oa] mer[oa]|el que manda|la que manda|jef[ae] de todo",
        # A verb in the first person with the business as its object: "dirijo la empresa",
        # "tengo una agencia", "I run a small agency", "I own the business".
        r"(?:dirijo|llevo|manejo|gestiono|administro|tengo|lidero) (?:la |una |mi |nuestra |el |un |nuestro )?"
        r"(?:propi[oa] |pequena |pequeno )?" + _BUSINESS + r"(?!'s)",
        r"(?:run|own|manage|lead|head) (?:the|a|an|my|our) (?:own |small |little |family )?(?:\w+ )?"
        + _BUSINESS
        + r"(?!'s)",
        r"(?:run|own) the (?:place|show)|own (?:a|the|my|our) (?:\w+ ){0,3}(?:chain|shops|stores|bakery|restaurants?"
        r"|salon|gym|hotel|cafe|franchise)",
    ),
    _family(
        "department_head",
        "decision_maker",
        r"(?:s|e)?vp(?: of)?(?: \w+)?|vice ?president[ea]?(?: of \w+| de \w+)?",
        r"head of \w+(?: \w+)?|head (?!office|quarters|count|start)\w+",  # "head office" is a place, not a title
        r"director[a]? (?:de |del |of )?" + _AREA + r"|director of \w+(?: \w+)?|" + _W + r" director",
        r"jef[ae] (?:de |del )(?!" + _CREW + r")" + _AREA,
        r"responsable (?:de |del )(?:departamento|area)\b(?: de \w+)?",
        # "dirijo el área comercial", "encabezo marketing", "I head up sales", "I run the finance department".
        r"(?:dirijo|encabezo) (?:el |la )?(?:(?:departamento|area|division) )?(?:de |del )?"
        + _KNOWN_AREA
        + r"(?! (?:team|equipo))",
        r"(?:head(?: up)?|run) (?:the )?" + _KNOWN_AREA + r"(?: (?:department|dept|division|function|area))?"
        r"(?! (?:team|group|squad))",
    ),
    # Titles that sound senior but name an individual contributor: a community manager runs
    # social accounts, an "asesor comercial" (LatAm) is a sales rep, an "account/marketing exec" (UK)
    # is a junior executive. Before the manager family so "manager"/"asesor" alone does not win.
    _family(
        "staff_with_senior_sounding_title",
        "user",
        r"community manager|asesor[a]? (?:comercial|de ventas|de seguros|inmobiliari[oa]|de atencion)",
        r"(?:account|sales|marketing|accounts|pr|media|recruitment|\w+ account) exec",
    ),
    _family(
        "manager",
        "influencer",
        r"gerente (?!general\b)(?:de |del )?(?:proyecto|cuenta|producto|area|\w+)|gerenta(?: de \w+)?"
        r"|subgerente(?: \w+)?"
        r"|subdirector[a]?(?: de \w+)?|(?:" + _W + r" )?manager|mgr",
        r"jef[ae] de " + _CREW + r"|team ?lead(?:er)?|tech ?lead|lead \w+|" + _W + r" lead",
        r"lider(?: de| del)? (?:equipo|area|proyecto|\w+)|leader",
        r"coordinador[a]?(?: de \w+)?|coordinator|supervisor[a]?|encargad[oa](?: de \w+)?",
        r"responsable de \w+|in charge of \w+",
        # people reporting to the visitor: "tengo 5 personas a cargo", "I manage 4 people", "6 direct reports"
        r"(?:tengo|con) (?:\w+ )?(?:personas|gente|empleados|colaboradores) a (?:mi )?cargo"
        r"|tengo a (?:mi )?cargo (?:a )?(?:\d+|\w+) (?:personas|empleados)"
        r"|(?:manage|lead|supervise) (?:\d+|a few|several|\w+) (?:people|staff|employees|reps|engineers|agents)"
        r"|(?:\d+|a few|several|some|two|three|four|five|six|seven|eight|nine|ten) direct reports",
        # A team or an area run in the first person: "llevo el equipo comercial", "coordino marketing",
        # "estoy a cargo de soporte", "I manage the sales team", "I oversee customer support".
        r"(?:llevo|coordino|gestiono|superviso|lidero|lidereo|manejo|dirijo|encabezo) "
        r"(?:a )?(?:el |un |al |los |las |la |mi )?" + _GROUP + r"(?: (?:de |del )?" + _KNOWN_AREA + ")?",
        r"(?:coordino|gestiono|superviso|llevo|manejo|lidero) (?:el |la |los |las )?(?:(?:area|departamento) )?"
        r"(?:de |del )?" + _KNOWN_AREA,
        r"(?:estoy a cargo|me encargo|me ocupo) (?:de |del )(?:la |el |los |las )?(?:"
        + _GROUP
        + " )?(?:de )?"
        + _KNOWN_AREA,
        r"(?:manage|lead|run|oversee|coordinate|supervise|look after) (?:the |a |our |my )?(?:"
        + _KNOWN_AREA
        + r" )?"
        + _GROUP,
        r"(?:manage|oversee|coordinate|supervise|look after|handle) (?:the |our )?" + _KNOWN_AREA,
        r"responsible for (?:the |our )?" + _KNOWN_AREA,
        r"consultor[a]?|consultant|asesor[a]?(?: externo| externa)?|advisor|adviser",
        # second to the top: "segundo al mando", "mano derecha del dueño", "deputy director"
        r"segundo al mando|second in command|mano derecha|right[- ]hand(?: man| woman| person)?|number two"
        r"|deputy(?: \w+)?|adjunt[oa](?: \w+)?",
        r"product owner|scrum master|project lead|(?:financial )?controller|contralor[a]?",
        r"(?:trabajo |estoy )?en compras|(?:departamento|area) de compras|comprador[a]?|procurement|purchasing",
        r"(?:member of|part of|miembro del|parte del) (?:the )?(?:buying |evaluation |selection )?(?:committee|comite)",
    ),
    _family(
        "individual_contributor",
        "user",
        r"sdr|bdr|sales rep(?:resentative)?|rep|account executive|ae|ejecutiv[oa](?: de (?:ventas|cuentas|cuenta))?",
        r"vendedor[a]?|comercial|agente(?: de \w+)?|agent|operador[a]?|operator|televendedor[a]?|teleoperador[a]?",
        r"analista(?: de \w+)?|analyst|especialista(?: en \w+)?|specialist|tecnic[oa]|technician",
        r"desarrollador[a]?|programador[a]?|developer|dev|engineer|ingenier[oa]|designer|disenador[a]?",
        r"asistente(?: de \w+)?|assistant|auxiliar(?: \w+)?|administrativ[oa]|secretari[oa]|secretary|recepcionista",
        r"becari[oa]|practicante|pasante|intern|trainee|junior",
        r"emplead[oa]|employee|trabajador[a]?|staff|colaborador[a]?|member of the team|del equipo de \w+",
        r"usuari[oa]|end user|user|(?:\w+ )?admin|(?:i )?(?:just |only )?work here|solo trabajo aqui",
        r"contador[a]?|contable|accountant|bookkeeper|receptionist|cajer[oa]|cashier|ing\.? de \w+",
        # professionals and specialists without reports
        r"(?:senior |junior )?associate(?! (?:director|partner|vp|vice))|paralegal|abogad[oa]|lawyer|attorney"
        r"|solicitor",
        r"sysadmin|administrador[a]? de (?:sistemas|redes|bases de datos|servidores)|dba|qa(?: \w+)?|tester"
        r"|architect|arquitect[oa] de \w+|temp(?=\s*$|\s*[,.;!?])|contractor|contratista|volunteer|voluntari[oa]"
        r"|copywriter|redactor[a]?|promotor[a]? de ventas|promotor[a]?(?=\s*$|\s*[,.;!?])|creador[a]? de contenido"
        r"|content creator",
        # the work of an area done in the first person: "hago el marketing", "llevo las redes", "I do IT"
        r"(?:hago|llevo|manejo|gestiono) (?:el |la |los |las )?(?:redes(?: sociales)?|marketing|contabilidad|diseno"
        r"|soporte|web|pagina web)",
        r"i do (?:the )?(?:marketing|it|design|accounts|books|support|social media|website)",
        r"(?:trabajo|i work|i'?m|i am|estoy) (?:en|in) (?:el (?:area|departamento|equipo) de |the )?" + _KNOWN_AREA,
        r"soy (?:de|del area de|del departamento de) " + _KNOWN_AREA,
        r"apprentice|aprendiz|currante|curranta|nurse|carer|caregiver|(?:pa|ea) to|personal assistant",
        r"meser[oa]|camarer[oa]|waiter|waitress|barista|bartender|cociner[oa]|cook|chofer|(?<!key )(?<!main )driver"
        r"|repartidor[a]?"
        r"|dependient[ae]|shop assistant|clerk|informatic[oa]",
        # named by the area alone: "el de sistemas", "the IT guy", "la de marketing"
        r"(?:^|soy )(?:el|la) de (?:la |el )?" + _KNOWN_AREA + r"|" + _KNOWN_AREA + r" (?:guy|girl|person|lady)",
        r"(?:le |les )?ayudo(?= en| con|\s*$|\s*[,.;!])|i help out|i help (?:my|the) \w+(?: \w+)? (?:out|with)",
        r"inside sales|outside sales|field sales|telesales|telemarketing|front ?line \w+(?: \w+)?|front desk"
        r"|(?:sales|shop) floor",
        # The work itself in the first person: "atiendo el chat", "hago las facturas", "I answer tickets".
        r"(?:atiendo|contesto|respondo) (?:el |la |los |las )?(?:chat|telefono|llamadas|clientes|caja|mostrador"
        r"|tickets|correos|whatsapp)",
        r"(?:hago|llevo) (?:las |los )?(?:facturas|llamadas|entregas|pedidos)|ayudo en (?:la|el) (?:oficina|negocio"
        r"|tienda|local)",
        r"i (?:just |only )?(?:answer|handle|take|work) (?:at |on )?(?:the )?"
        r"(?:tickets|calls|phones|chats?|emails|front desk|till)",
    ),
)

_LEVEL_OF = {family.name: family.level for family in FAMILIES}

# Abbreviated title words, written out so the families need one spelling: "gte. gral." -> "gerente
# general", "dir. comercial", "asst. manager". Keys match whole words (the dot is optional unless shown).
ABBREVIATIONS = {
    r"gral\.?": "general",
    r"gte\.": "gerente",
    r"dir\.": "director",
    r"dpto\.?|depto\.?": "departamento",
    r"asst\.?": "assistant",
    r"coord\.": "coordinador",
    r"mktg\.?|mkt\.": "marketing",
    r"mngr|mgr\.?": "manager",
}
_ABBREVIATION = re.compile(r"\b(" + "|".join(ABBREVIATIONS) + r")(?!\w)")
_EXPANSION = [(re.compile(key + r"\Z"), word) for key, word in ABBREVIATIONS.items()]


# Title words people mistype ("cordinadora", "direcor", "maneger"). A word one edit away from one of
# these is read as it, unless it is a real word itself: the list below holds the real words one edit
# away from a title word ("directo", "founded", "consultar"), which must stay as written.
TITLE_WORDS = frozenset(
    {
        "coordinador", "coordinadora", "coordinator", "director", "directora", "gerente", "gerenta",
        "manager", "supervisor", "supervisora", "fundador", "fundadora", "founder", "propietario",
        "propietaria", "presidente", "presidenta", "president", "asistente", "assistant", "analista",
        "vendedor", "vendedora", "ingeniero", "ingeniera", "engineer", "developer", "desarrollador",
        "desarrolladora", "consultor", "consultora", "consultant", "ejecutivo", "ejecutiva",
        "executive", "secretaria", "secretario", "practicante", "becario", "becaria", "analyst",
    }
)  # fmt: skip
REAL_WORDS_NEAR_TITLES = frozenset(
    {
        "directo", "directos", "managed", "manages", "manage", "fundado", "founded", "consultar",
        "consulto", "consultoria", "supervisar", "coordinados", "desarrollados", "developed",
        "consultan", "ingenieria",
    }
)  # fmt: skip
_LONG_WORD = re.compile(r"[a-z]{6,}")


def _title_word_for(word: str) -> str:
    if word in REAL_WORDS_NEAR_TITLES or any(plural_equal(word, title) for title in TITLE_WORDS):
        return word
    near = [title for title in TITLE_WORDS if within_one_edit(word, title)]
    # "fundadorr" is one edit from "fundador" and "fundadora": variants of one word are no ambiguity.
    return min(near, key=len) if near and len({title[:6] for title in near}) == 1 else word


def correct_title_typos(text: str) -> str:
    """`text` (normalised) with mistyped title words written right: "cordinadora de ventas"."""
    return _LONG_WORD.sub(lambda match: _title_word_for(match.group(0)), text)


def expand_abbreviations(text: str) -> str:
    """`text` (normalised) with abbreviated title words written out, so "gerente gral." is a title."""

    def full(match: re.Match[str]) -> str:
        return next(word for key, word in _EXPANSION if key.match(match.group(1)))

    return _ABBREVIATION.sub(full, text)


# A title right after one of these is someone else's: "mi jefe", "the MD", "our CEO", "tu CTO".
_OTHERS = re.compile(
    r"(?:\b(?:mi|mis|tu|tus|su|sus|el|la|los|las|nuestro|nuestra|nuestros|my|your"
    r"|his|her|their|the|our|del|al|a la|de la"
    r"|de mi|to the|for the|for my|para mi|para el|para la|con mi|with my|with the)\s+(?:\w+\s+)?)$"
)
# ... unless the visitor says it is theirs: "soy el CEO", "I'm the founder", "as the owner", "I'm the
# practice owner", "soy su asistente". A preposition between makes it someone else's ("soy asistente del CEO").
_SELF = re.compile(
    r"\b(?:soy|yo soy|como|trabajo como|i'?m|i am|im|as|here as)\s+"
    r"(?:(?:the|a|an|el|la|un|una)\s+)?(?:(?!(?:del|de|of|for|to|al|para|con|with)\b)\w+\s+)?$"
)
# A title denied is no title of theirs: "no soy el dueño", "I'm not a manager", "not really the owner".
_DENIED = re.compile(r"\b(?:no|not|ni|nunca|never|isn'?t)\s+(?:\w+\s+){0,2}$")
# ... and so is a past one: "former CEO, now consultant", "ex dueño".
_FORMER = re.compile(r"\b(?:former|formerly|ex|previously|antigu[oa]|retired)[\s-]+(?:\w+\s+)?$")
# A deputy to a head seconds the decision: "deputy head of finance", "assistant director", "directora adjunta".
_DEPUTY_BEFORE = re.compile(r"\b(?:deputy|assistant|vice|segund[oa])[\s-]+$")
_DEPUTY_AFTER = re.compile(r"\S+(?: \S+){0,2} adjunt[oa]\b")  # the title's words, then "adjunto"


@dataclass(frozen=True)
class Role:
    family: str
    level: str
    title: str  # the words that named it


def visitor_roles(text: str, claimed_only: bool = False) -> list[Role]:
    """The titles the visitor gives for themself, in the order they appear, with their level.

    `text` is normalised (parsing.normalize). Titles that belong to someone else ("mi jefe",
    "the MD", "el CEO es quien escoge") are left out. With `claimed_only`, only titles the
    visitor claims in words ("soy la CTO", "as head of sales") count: a message that is not
    the answer to the authority question may name titles for other reasons."""
    found: list[tuple[int, Role]] = []
    taken: list[tuple[int, int]] = []
    for family in FAMILIES:
        for match in family.pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            before = text[:start]
            if _DENIED.search(before) or _FORMER.search(before):
                continue
            claimed = bool(_SELF.search(before))
            if (_OTHERS.search(before) and not claimed) or (claimed_only and not claimed):
                continue
            if text.startswith("'s", end):  # "the head of marketing's assistant": not the visitor
                continue
            taken.append((start, end))
            role = Role(family.name, family.level, match.group(0))
            if role.level == "decision_maker" and (_DEPUTY_BEFORE.search(before) or _DEPUTY_AFTER.match(text, start)):
                role = Role("deputy", "influencer", match.group(0))
            found.append((start, role))
    return [role for _, role in sorted(found, key=lambda pair: pair[0])]


def title_level(text: str, claimed_only: bool = False) -> Role | None:
    """The visitor's most senior own title (a no-buying-role one wins: "estudiante y becario"),
    or None when they give none."""
    roles = visitor_roles(text, claimed_only)
    if not roles:
        return None
    rank = {"none": 0, "decision_maker": 3, "influencer": 2, "user": 1}
    if any(role.level == "none" for role in roles):
        return next(role for role in roles if role.level == "none")
    return max(roles, key=lambda role: rank[role.level])
