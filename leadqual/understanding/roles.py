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
leadqual/understanding/parsing.py (parse_authority), which asks this module only for the visitor's own title.
Patterns match text normalised by parsing.normalize (lower case, no accents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    r"|i|im|soy|as|como|and|y)\b)\w+"
)

# The areas a department or team is named by. After a verb ("dirijo ventas", "I run marketing") only
# these count, so "llevo 3 años" or "I run the project" is no role; after a title ("director de X")
# any word does (_AREA).
_KNOWN_AREA = (
    r"(?:marketing|ventas|comercial|operaciones|finanzas|tecnologia|ti|it|sistemas|compras|rrhh|recursos humanos"
    r"|producto|datos|growth|crecimiento|atencion al cliente|soporte|servicio al cliente|clientes|customer \w+"
    r"|sales|operations|ops|finance|technology|engineering|ingenieria|product|data|support|procurement"
    r"|purchasing|people|hr|revenue|digital|ecommerce|e-commerce|administracion|logistica|logistics"
    r"|innovacion|innovation|estrategia|strategy|negocio|business development|desarrollo de negocio)"
)
_AREA = _KNOWN_AREA[:-1] + r"|\w+)"
_BUSINESS = (
    r"(?:empresa|compania|negocio|agencia|startup|firma|pyme|tienda|consultora|estudio|despacho|clinica"
    r"|company|business|agency|firm|shop|store|practice|studio|clinic)"
)
_GROUP = r"(?:equipo|grupo|team|group|squad|reps|agents|agentes|vendedores|comerciales)"

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
        r"investigador[a]?|researcher|academic|academico|profesor[a]?|profe|docente|teacher|lecturer|maestr[oa]",
    ),
    _family(
        "executive",
        "decision_maker",
        r"ceo|cfo|cto|coo|cmo|cio|cro|cpo|cso|chro|cdo|c-level|chief \w+(?: \w+)? officer|chief executive",
        r"co-?fundador[a]?|cofundador[a]?|fundador[a]?|co-?founder|cofounder|founder|founding partner",
        r"duen[oa]|propietari[oa]|owner|business owner|proprietor",
        r"socio(?: fundador| director| gerente| principal| mayoritario)?|socia(?: fundadora| directora| gerente)?",
        r"(?:managing |senior |equity )?partner(?! (?:company|manager))",
        r"managing director|md|general manager|gm|director[a]? general|gerente general|director[a]? ejecutiv[oa]",
        r"consejer[oa] delegad[oa]|administrador[a]? unic[oa]|presidente|presidenta|president|executive director",
        r"mer[oa] mer[oa]|el que manda|la que manda|jef[ae] de todo",
        # A verb in the first person with the business as its object: "dirijo la empresa",
        # "tengo una agencia", "I run a small agency", "I own the business".
        r"(?:dirijo|llevo|manejo|gestiono|administro|tengo|lidero) (?:la |una |mi |nuestra |el |un |nuestro )?"
        r"(?:propi[oa] |pequena |pequeno )?" + _BUSINESS,
        r"(?:run|own|manage|lead|head) (?:the|a|my|our) (?:own |small |little |family )?" + _BUSINESS,
        r"(?:run|own) the (?:place|show)|own (?:a|the|my|our) (?:\w+ ){0,3}(?:chain|shops|stores|bakery|restaurants?"
        r"|salon|gym|hotel|cafe|franchise)",
    ),
    _family(
        "department_head",
        "decision_maker",
        r"(?:s|e)?vp(?: of)?(?: \w+)?|vice ?president[ea]?(?: of \w+| de \w+)?",
        r"head of \w+(?: \w+)?|head \w+",
        r"director[a]? (?:de |del |of )?" + _AREA + r"|director of \w+(?: \w+)?|" + _W + r" director",
        r"jef[ae] (?:de |del )(?!equipo|grupo|turno|proyecto|seccion|tienda)" + _AREA,
        r"responsable (?:de |del )(?:departamento|area)\b(?: de \w+)?",
        # "dirijo el área comercial", "encabezo marketing", "I head up sales", "I run the finance department".
        r"(?:dirijo|encabezo) (?:el |la )?(?:(?:departamento|area|division) )?(?:de |del )?"
        + _KNOWN_AREA
        + r"(?! (?:team|equipo))",
        r"(?:head(?: up)?|run) (?:the )?" + _KNOWN_AREA + r"(?: (?:department|dept|division|function|area))?"
        r"(?! (?:team|group|squad))",
    ),
    _family(
        "manager",
        "influencer",
        r"gerente de (?:proyecto|cuenta|producto|area|\w+)|gerenta(?: de \w+)?|subgerente(?: \w+)?"
        r"|subdirector[a]?(?: de \w+)?|(?:" + _W + r" )?manager|mgr",
        r"jef[ae] de (?:equipo|grupo|turno|proyecto|seccion|tienda)|team ?lead(?:er)?|tech ?lead|lead \w+|"
        + _W
        + r" lead",
        r"lider(?: de| del)? (?:equipo|area|proyecto|\w+)|leader",
        r"coordinador[a]?(?: de \w+)?|coordinator|supervisor[a]?|encargad[oa](?: de \w+)?",
        r"responsable de \w+|in charge of \w+",
        # A team or an area run in the first person: "llevo el equipo comercial", "coordino marketing",
        # "estoy a cargo de soporte", "I manage the sales team", "I oversee customer support".
        r"(?:llevo|coordino|gestiono|superviso|lidero|manejo|dirijo|encabezo) (?:a )?(?:el |un |al |los |las |la |mi )?"
        + _GROUP
        + r"(?: (?:de |del )?"
        + _KNOWN_AREA
        + ")?",
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
        r"(?:manage|oversee|coordinate|supervise|look after) (?:the |our )?" + _KNOWN_AREA,
        r"responsible for (?:the |our )?" + _KNOWN_AREA,
        r"consultor[a]?|consultant|asesor[a]?(?: externo| externa)?|advisor|adviser",
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
        r"usuari[oa]|end user|user",
        r"contador[a]?|contable|accountant|bookkeeper|receptionist|cajer[oa]|cashier|ing\.? de \w+",
        r"(?:trabajo|i work) (?:en|in) (?:el (?:area|departamento) de |the )?" + _KNOWN_AREA,
    ),
)

_LEVEL_OF = {family.name: family.level for family in FAMILIES}

# A title right after one of these is someone else's: "mi jefe", "the MD", "our CEO", "tu CTO".
_OTHERS = re.compile(
    r"(?:\b(?:mi|mis|tu|tus|su|sus|el|la|los|las|nuestro|nuestra|nuestros|my|your"
    r"|his|her|their|the|our|del|al|a la|de la"
    r"|de mi|to the|for the|for my|para mi|para el|para la|con mi|with my|with the)\s+(?:\w+\s+)?)$"
)
# ... unless the visitor says it is theirs: "soy el CEO", "I'm the founder", "as the owner".
_SELF = re.compile(r"\b(?:soy|yo soy|como|trabajo como|i'?m|i am|im|as|here as)\s+(?:\w+\s+)?$")


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
            claimed = bool(_SELF.search(before))
            if (_OTHERS.search(before) and not claimed) or (claimed_only and not claimed):
                continue
            if text.startswith("'s", end):  # "the head of marketing's assistant": not the visitor
                continue
            taken.append((start, end))
            found.append((start, Role(family.name, family.level, match.group(0))))
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
