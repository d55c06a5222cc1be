"""The role taxonomy (leadqual/understanding/roles.py) as the authority parser uses it: a title alone gives
its family's level, a clause about who decides or signs overrides it, and someone else's title
("mi jefe", "the MD") is never taken for the visitor's. Phrasings written for this file, not
taken from any evaluation set."""

from __future__ import annotations

import pytest

from leadqual.understanding.parsing import normalize, parse_authority
from leadqual.understanding.roles import FAMILIES, correct_title_typos, title_level, visitor_roles


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # executives, founders, owners, partners
        ("Chief Revenue Officer", "en", "decision_maker"),
        ("cofundadora", "es", "decision_maker"),
        ("soy el propietario de la clínica", "es", "decision_maker"),
        ("founding partner", "en", "decision_maker"),
        ("presidenta de la cooperativa", "es", "decision_maker"),
        ("GM of our Madrid office", "en", "decision_maker"),
        # department heads
        ("SVP Customer Experience", "en", "decision_maker"),
        ("Head of Revenue Operations", "en", "decision_maker"),
        ("directora comercial", "es", "decision_maker"),
        ("jefe de sistemas", "es", "decision_maker"),
        # managers, leads, coordinators, consultants, procurement
        ("account manager", "en", "influencer"),
        ("gerente de proyecto en una constructora", "es", "influencer"),
        ("jefa de turno", "es", "influencer"),
        ("líder del equipo de datos", "es", "influencer"),
        ("coordinadora de eventos", "es", "influencer"),
        ("consultora externa, lo estoy mirando para un cliente", "es", "influencer"),
        ("purchasing department", "en", "influencer"),
        # individual contributors
        ("ejecutivo de cuentas", "es", "user"),
        ("data analyst", "en", "user"),
        ("soy diseñadora", "es", "user"),
        ("customer service agent", "en", "user"),
        ("pasante en el área de marketing", "es", "user"),
        # no buying role
        ("candidato a un puesto en vuestra empresa", "es", "none"),
        ("I'm a reporter for a tech site", "en", "none"),
        ("docente de un instituto", "es", "none"),
        ("trabajo para la competencia", "es", "none"),
        # clauses override the title
        ("soy becario pero el presupuesto es mío", "es", "decision_maker"),
        ("just an intern, but I hold the budget for this", "en", "decision_maker"),
        ("directora de marketing, aunque lo decide la junta", "es", "influencer"),
        ("VP Sales, but the CFO has the final say", "en", "influencer"),
        ("analista, quien firma es mi jefa", "es", "user"),
        ("developer, my boss picks the tools", "en", "user"),
        ("estoy juntando cotizaciones para el área", "es", "influencer"),
        # someone else's title is not the visitor's
        ("mi jefa es quien decide", "es", "user"),
        ("it's up to our CEO", "en", "user"),
        # a role said with a verb gives the level of its title
        # the business as the object of a first-person verb: its owner or head
        ("dirijo la empresa desde hace años", "es", "decision_maker"),
        ("tengo una agencia pequeña en Quito", "es", "decision_maker"),
        ("I run a small agency", "en", "decision_maker"),
        ("I own the business", "en", "decision_maker"),
        # a department run by its head
        ("dirijo el área comercial", "es", "decision_maker"),
        ("encabezo marketing", "es", "decision_maker"),
        ("I head up sales", "en", "decision_maker"),
        ("I run the finance department", "en", "decision_maker"),
        # a team or an area managed: a manager
        ("llevo el equipo comercial", "es", "influencer"),
        ("coordino el equipo de marketing", "es", "influencer"),
        ("dirijo el equipo de ventas", "es", "influencer"),
        ("superviso a los vendedores", "es", "influencer"),
        ("estoy a cargo de soporte", "es", "influencer"),
        ("I manage the marketing team", "en", "influencer"),
        ("I oversee customer support", "en", "influencer"),
        ("responsible for operations", "en", "influencer"),
    ],
)
def test_titles_and_clauses_give_the_level_a_sales_rep_would_record(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None, text
    assert parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("llevo 3 años en la empresa", "es"),
        ("I run the project", "en"),
        ("gestiono mis vacaciones", "es"),
    ],
)
def test_a_verb_without_a_business_team_or_area_is_no_role(text, lang):
    assert title_level(normalize(text)) is None


def test_someone_else_running_the_business_is_not_the_visitor():
    for text, lang in (("mi jefe dirige la empresa", "es"), ("my boss runs the company", "en")):
        parsed = parse_authority(text, lang)
        assert parsed is None or parsed.level != "decision_maker", (text, parsed)


def test_someone_elses_title_is_left_out():
    roles = visitor_roles(normalize("soy la asistente del director general"))
    assert [role.family for role in roles] == ["individual_contributor"]
    assert visitor_roles(normalize("el CEO es quien escoge")) == []


def test_a_title_named_as_a_possessor_is_not_the_visitors():
    role = title_level(normalize("I'm the head of sales's assistant"))
    assert role is not None and role.level == "user"


def test_outside_the_authority_question_only_claimed_titles_count():
    assert parse_authority("sales manager", "en", requested=False) is None
    claimed = parse_authority("hola, soy sales manager en Acme", "es", requested=False)
    assert claimed is not None and claimed.level == "influencer"


def test_every_family_has_a_known_level():
    assert {family.level for family in FAMILIES} == {"decision_maker", "influencer", "user", "none"}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # looking for a job, not for a product
        ("¿están contratando? me encantaría entrar", "es"),
        ("ya les envié mi curriculum por correo", "es"),
        ("me despidieron el mes pasado", "es"),
        ("estoy buscando pasantías de verano", "es"),
        ("currently job-hunting", "en"),
        ("I was made redundant in March", "en"),
        ("I applied to the marketing position last week", "en"),
        # learning or teaching, not buying
        ("estoy haciendo un diplomado y me tocó comparar CRMs", "es"),
        ("es para la tarea del colegio de mi hija", "es"),
        ("doctoranda, escribo sobre automatización comercial", "es"),
        ("I teach a marketing course at a community college", "en"),
        ("learning growth marketing on my own", "en"),
        ("I'm 15 and like computers", "en"),
        # media, competitors
        ("tengo un canal de YouTube sobre productividad", "es"),
        ("doing a competitive analysis for a rival vendor", "en"),
        # no business, not buying
        ("no tengo ni negocio todavía", "es"),
        ("soy persona física, sin más", "es"),
        ("no vamos a comprar, solo comparamos", "es"),
        ("asking on behalf of my friend, nothing to do with me", "en"),
        ("vine a curiosear nomás", "es"),
        ("ama de casa", "es"),
        ("stay-at-home dad", "en"),
        # an answer that starts by saying there is no role
        ("ninguno en realidad", "es"),
        ("uy no, ninguna", "es"),
        ("no role, sorry", "en"),
    ],
)
def test_no_buying_role_said_other_ways(text, lang):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == "none", (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # a no-buying-role word that qualifies a title, or is no title at all
        ("head teacher at a primary school", "en", "decision_maker"),
        ("coordinador académico del colegio", "es", "influencer"),
        ("academic coordinator", "en", "influencer"),
        ("yo llevo lo académico y decido yo", "es", "decision_maker"),
        ("operations manager for a school district", "en", "influencer"),
    ],
)
def test_a_no_role_word_inside_a_title_is_not_no_role(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # a buyer's words that only look like a no-role reason
        ("nos interesa trabajar con ustedes, soy la gerente general", "es", "decision_maker"),
        ("directora de ventas, tengo 15 años de experiencia", "es", "decision_maker"),
        ("head of marketing, we advertise a lot on YouTube", "en", "decision_maker"),
        ("we'd love to work with you, I'm the founder", "en", "decision_maker"),
        ("nobody else, it's my call", "en", "decision_maker"),
        ("ninguno más, decido yo", "es", "decision_maker"),
    ],
)
def test_buyer_words_that_look_like_no_role_keep_the_role(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # titles that sound senior but name an individual contributor
        ("community manager de una marca de ropa", "es", "user"),
        ("asesora de ventas en un concesionario", "es", "user"),
        ("sales exec", "en", "user"),
        ("I'm a PR exec at an agency", "en", "user"),
        # more individual-contributor titles
        ("aprendiz en una panadería", "es", "user"),
        ("a carer at a care home", "en", "user"),
        ("EA to the founder", "en", "user"),
        ("front desk at a hotel", "en", "user"),
        ("field sales", "en", "user"),
        ("trabajo en el área de atención a clientes del banco", "es", "user"),
        ("trabajo en telemarketing", "es", "user"),
        # the work itself in the first person
        ("contesto el whatsapp del restaurante", "es", "user"),
        ("llevo los pedidos del almacén", "es", "user"),
        ("ayudo en el negocio de mi padre", "es", "user"),
        ("I handle the phones at a dental practice", "en", "user"),
        # the general manager of a branch
        ("gerente de la filial de Valencia", "es", "decision_maker"),
        ("branch manager at a bank", "en", "decision_maker"),
        ("chief exec of a charity", "en", "decision_maker"),
        # a team led, with a typo or a diminutive
        ("lidereo el grupito de soporte", "es", "influencer"),
        ("coordino un equipito de 3 comerciales", "es", "influencer"),
    ],
)
def test_more_title_families(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        ("gte. gral. de la planta", "es", "decision_maker"),
        ("dir. comercial", "es", "decision_maker"),
        ("dir. de compras", "es", "decision_maker"),
        ("asst. to the office manager", "en", "user"),
    ],
)
def test_abbreviated_titles(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # a third person who decides, signs or buys
        ("she's the one who signs", "en", "user"),
        ("they'll be choosing the vendor", "en", "user"),
        ("head office buys the licences", "en", "user"),
        ("los proveedores los elige ella", "es", "user"),
        ("los programas los compra el dueño", "es", "user"),
        ("ella ve lo de las compras", "es", "user"),
        ("yo nomás lo uso", "es", "user"),
        # approval needed from someone else, or the decision goes up
        ("director de IT, pero todo necesita el visto bueno del consejo", "es", "influencer"),
        ("socia, aunque necesito el visto bueno de mi hermano", "es", "influencer"),
        ("head of ops, but it has to go to the board", "en", "influencer"),
        ("Director of Finance; purchases over 5k need CEO sign-off", "en", "influencer"),
        ("les paso la info a los socios", "es", "user"),
        # the visitor says they are not the one
        ("no soy la que aprueba, soy auxiliar", "es", "user"),
        ("I'm not the person who approves, I just use it", "en", "user"),
        ("no tengo voz, soy auxiliar", "es", "user"),
        ("I have no say in it", "en", "user"),
        # tasked by someone else
        ("my manager asked me to research options", "en", "user"),
        ("el dueño me pidió que investigara opciones", "es", "user"),
        ("I do what my manager says", "en", "user"),
        ("hago lo que me dicen", "es", "user"),
        ("nada, hago lo que me mandan", "es", "user"),
    ],
)
def test_someone_else_decides_said_other_ways(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


def test_needing_ones_own_approval_is_not_someone_else_deciding():
    parsed = parse_authority("anything we buy needs my approval", "en")
    assert parsed is not None and parsed.level == "decision_maker", parsed


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # authority handed to the visitor, or a second verb of theirs, or their own budget
        ("team lead, but the owners granted me free rein on tooling", "en", "decision_maker"),
        ("I coordinate the support team and sign the contracts", "en", "decision_maker"),
        ("la decisión es totalmente mía", "es", "decision_maker"),
        ("autónomo con mi propio estudio de fotografía", "es", "decision_maker"),
        ("office coordinator, it comes out of my own budget", "en", "decision_maker"),
        ("esto sale de mi presupuesto, soy jefe de proyecto", "es", "decision_maker"),
        # a vote among several, or a say in it
        ("co-owner, but it's a board vote", "en", "influencer"),
        ("soy gerente general pero tengo un voto entre cinco", "es", "influencer"),
        ("I get a vote on it", "en", "influencer"),
        ("analyst, but I have a real say", "en", "influencer"),
        ("mi opinión cuenta mucho", "es", "influencer"),
        ("part of a panel choosing the new CRM", "en", "influencer"),
        ("I chair the steering group", "en", "influencer"),
        ("presento una propuesta al consejo", "es", "influencer"),
    ],
)
def test_the_visitors_own_part_said_other_ways(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # a title denied is not the visitor's
        ("no soy la dueña, soy cajera", "es", "user"),
        ("I'm not a manager, just staff", "en", "user"),
        ("not really the owner, I just work here", "en", "user"),
        # mistyped title words
        ("cordinador de logística", "es", "influencer"),
        ("diretora de finanzas", "es", "decision_maker"),
        ("supervisr de planta", "es", "influencer"),
        ("fundadorr de la startup", "es", "decision_maker"),
        ("manger de proyectos", "es", "influencer"),
    ],
)
def test_denied_and_mistyped_titles(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


def test_denied_title_alone_is_no_title():
    assert title_level(normalize("I'm not a manager")) is None


@pytest.mark.parametrize(
    "word",
    ["directo", "founded", "consultar", "ingenieria", "directors", "managed", "supervisar"],
)
def test_real_words_near_a_title_word_are_not_corrected(word):
    assert correct_title_typos(word) == word


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # the visitor as the one who approves or signs, said other ways
        ("soy la que firma las facturas de proveedores", "es", "decision_maker"),
        ("I hold final sign-off", "en", "decision_maker"),
        ("I'm the last approver for software", "en", "decision_maker"),
        # kinds of business owned or run
        ("tengo una ferretería en el centro", "es", "decision_maker"),
        ("I own a small pharmacy", "en", "decision_maker"),
        ("we run a family restaurant and I manage the restaurant", "en", "decision_maker"),
        ("I run a small accounting firm", "en", "decision_maker"),
        # admin staff
        ("IT admin", "en", "user"),
        # recommending without "I"
        ("recommending, the partners choose", "en", "influencer"),
        # only a future user
        ("I'll be using it, that's all", "en", "user"),
        ("una de las usuarias nada más", "es", "user"),
        # a board or its like named alone
        ("los accionistas", "es", "user"),
        ("head office", "en", "user"),
        # choosing for a client
        ("freelance dev choosing tools for my client", "en", "influencer"),
    ],
)
def test_more_clauses_said_other_ways(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # "it" as a pronoun after a verb is no IT department
        ("I'll run it past finance first", "en", "influencer"),
        # scrum roles: "owner" there owns a backlog, not the business
        ("product owner for the mobile app", "en", "influencer"),
        ("scrum master", "en", "influencer"),
        # a member of a department, no title
        ("I'm in marketing", "en", "user"),
        ("soy del área de finanzas", "es", "user"),
        ("estoy en el equipo de soporte", "es", "user"),
        # owners together with family or a partner
        ("propietaria junto con mi marido", "es", "decision_maker"),
        ("dueña junto con mi hermana", "es", "decision_maker"),
        # the visitor names themself as the boss, the decision maker, the founder
        ("la dueña soy yo", "es", "decision_maker"),
        ("I'm the big boss here", "en", "decision_maker"),
        ("key decision-maker", "en", "decision_maker"),
        ("soy la tomadora de decisiones", "es", "decision_maker"),
        ("soy quien toma la decisión final", "es", "decision_maker"),
        ("I set up the agency in 2019", "en", "decision_maker"),
        ("I co-founded this startup", "en", "decision_maker"),
        ("self-employed", "en", "decision_maker"),
        ("emprendedora", "es", "decision_maker"),
        # a part in the decision, said other ways
        ("one of the decision makers", "en", "influencer"),
        ("influenciador", "es", "influencer"),
        ("I give input, but don't decide", "en", "influencer"),
        ("we need to get board approval", "en", "influencer"),
        ("tengo que pedirle permiso al dueño", "es", "influencer"),
        ("I'd have to check with my director", "en", "influencer"),
        # only a future user
        ("I'm only going to use it", "en", "user"),
        # no buying role
        ("sorry, wrong website", "en", "none"),
        ("info para mi blog de tecnología", "es", "none"),
    ],
)
def test_scrum_roles_department_members_owners_and_parts_in_the_decision(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # the head of an institution
        ("principal at a secondary school", "en", "decision_maker"),
        ("rectora del instituto tecnológico", "es", "decision_maker"),
        ("decano de la facultad", "es", "decision_maker"),
        ("alcaldesa del municipio", "es", "decision_maker"),
        # finance controllers
        ("contralora de la empresa", "es", "influencer"),
        # service and shop-floor staff
        ("waitress at a diner", "en", "user"),
        ("bartender", "en", "user"),
        ("dependienta en una zapatería", "es", "user"),
        # named by the area alone
        ("soy el de sistemas", "es", "user"),
        ("I'm the data person", "en", "user"),
        # the business belongs to someone else the visitor helps
        ("mi tía es la propietaria, yo le ayudo", "es", "user"),
        ("my mum owns the café, I help out at weekends", "en", "user"),
        ("la tienda es de mi abuelo", "es", "user"),
        ("the business is my husband's", "en", "user"),
        # the visitor picks, someone else signs or pays
        ("me toca escoger a mí, pero firma el gerente", "es", "influencer"),
        ("I choose the vendor and procurement pays", "en", "influencer"),
        # "X and I" is the visitor deciding, not X
        ("I'm the ops manager and I choose the tools", "en", "decision_maker"),
    ],
)
def test_institution_heads_service_staff_and_businesses_of_others(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    "text",
    ["no compramos nada hasta el año que viene", "we're not buying anything until spring"],
)
def test_not_buying_yet_is_timing_not_no_role(text):
    parsed = parse_authority(text, "es", requested=False)
    assert parsed is None or parsed.level != "none", (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        ("mi cargo es dueña", "es", "decision_maker"),
        ("my position is owner", "en", "decision_maker"),
        ("mi papá es el dueño, yo atiendo", "es", "user"),
    ],
)
def test_ones_own_role_named_is_not_someone_elses(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # "gerente" alone runs the business; with an area it is a manager
        ("gerente", "es", "decision_maker"),
        ("gerente comercial", "es", "influencer"),
        ("gerente regional de la zona norte", "es", "influencer"),
        # a crew, shift or site lead is a team lead, not a department head
        ("jefa de almacén", "es", "influencer"),
        ("jefe de cuadrilla", "es", "influencer"),
        # being in charge of everything
        ("estoy a cargo", "es", "decision_maker"),
        ("I'm in charge of everything here", "en", "decision_maker"),
        ("me ocupo de todo", "es", "decision_maker"),
        # people reporting to the visitor
        ("tengo 8 personas a mi cargo", "es", "influencer"),
        ("I supervise 12 agents", "en", "influencer"),
        ("three direct reports", "en", "influencer"),
        # decision power
        ("tengo poder de compra", "es", "decision_maker"),
        ("I have purchasing power", "en", "decision_maker"),
        ("no tengo poder de decisión", "es", "user"),
        # a business of one
        ("just me", "en", "decision_maker"),
        ("solamente yo", "es", "decision_maker"),
        ("one-woman show", "en", "decision_maker"),
        # evaluating or researching, someone else decides
        ("part of the group that picks the software", "en", "influencer"),
        ("estamos evaluando varias herramientas", "es", "influencer"),
        ("investigo alternativas y mi jefa decide", "es", "influencer"),
        # tasked by someone else, or a relative of the owner
        ("me mandaron a averiguar", "es", "user"),
        ("I've been asked to look at CRMs", "en", "user"),
        ("soy el sobrino de la dueña", "es", "user"),
        ("I'm the founder's daughter", "en", "user"),
        # the one who will use it
        ("la que lo va a usar soy yo", "es", "user"),
        # no role, by the form's words
        ("no aplica", "es", "none"),
        ("not applicable", "en", "none"),
    ],
)
def test_people_reporting_decision_power_research_and_tasks(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # the visitor's own decision, negated
        ("no me corresponde aprobar", "es", "user"),
        ("no tengo la última palabra", "es", "user"),
        ("no apruebo yo, aprueba la gerente", "es", "user"),
        # approval someone else will give, in the subjunctive
        ("soy la COO, pero depende de que lo apruebe el directorio", "es", "influencer"),
        # a manager with a budget of their own
        ("jefe de proyecto, el presupuesto del proyecto lo controlo yo", "es", "decision_maker"),
        ("team lead with my own budget", "en", "decision_maker"),
        # authority delegated, said other ways
        ("el gerente me dejó decidir", "es", "decision_maker"),
        ("la dueña me lo delegó", "es", "decision_maker"),
        ("the owner left it to me", "en", "decision_maker"),
        ("I was given the budget for it", "en", "decision_maker"),
        # second to the top
        ("segundo al mando en la empresa", "es", "influencer"),
        ("I'm her right hand", "en", "influencer"),
        ("deputy head of finance", "en", "influencer"),
        ("directora adjunta", "es", "influencer"),
        # a past title is not the visitor's now
        ("ex gerente general, ahora asesor externo", "es", "influencer"),
        ("formerly a founder, now an analyst", "en", "user"),
    ],
)
def test_negated_decisions_delegation_deputies_and_past_titles(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "wrong"),
    [
        ("I manage the company's social media", "en", "decision_maker"),  # a possessor is no business run
        ("I'm a key driver of this decision", "en", "user"),  # "driver" there is no job
        ("no tengo mucho peso en esto", "es", "influencer"),  # a say denied is no say
    ],
)
def test_look_alikes_do_not_give_the_level_they_resemble(text, lang, wrong):
    parsed = parse_authority(text, lang)
    assert parsed is None or parsed.level != wrong, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # a third person who owns, pays or likes to sign
        ("ayudo con las redes, ella es la dueña", "es", "user"),
        ("hago el inventario y ellos ponen el dinero", "es", "user"),
        ("I do the bookings, she pays", "en", "user"),
        ("head of product, but our CEO wants to approve every tool", "en", "influencer"),
        ("no decision power here, I'm on the tills", "en", "user"),
        # owners said other ways
        ("one of the three founders", "en", "decision_maker"),
        ("I own it", "en", "decision_maker"),
        ("el negocio es de mi familia y yo lo administro", "es", "decision_maker"),
        # research, evaluation or a business case for someone else
        ("estoy investigando para la gerencia", "es", "influencer"),
        ("researching for my manager", "en", "influencer"),
        ("pre-sales engineer evaluating on behalf of the sales team", "en", "influencer"),
        ("writing the business case for our CFO", "en", "influencer"),
        ("armo el informe para la directora", "es", "influencer"),
    ],
)
def test_third_parties_who_pay_owners_and_business_cases(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # professionals and specialists without reports
        ("associate at an accounting firm", "en", "user"),
        ("abogada del bufete", "es", "user"),
        ("administradora de redes", "es", "user"),
        ("QA tester", "en", "user"),
        ("creadora de contenido en la marca", "es", "user"),
        # the work of an area done in the first person
        ("manejo las redes sociales del restaurante", "es", "user"),
        ("I do the books for the practice", "en", "user"),
        ("I handle operations for the company", "en", "influencer"),
        # "jefe" alone, and the administrator of a business
        ("jefa", "es", "decision_maker"),
        ("administrador de la clínica", "es", "decision_maker"),
        # "el X soy yo" read as "soy el X"
        ("la coordinadora del proyecto soy yo", "es", "influencer"),
        ("el analista soy yo", "es", "user"),
    ],
)
def test_specialists_area_work_and_title_then_me(text, lang, level):
    parsed = parse_authority(text, lang)
    assert parsed is not None and parsed.level == level, (text, parsed)


@pytest.mark.parametrize(
    ("text", "lang", "level"),
    [
        # a title claimed with an article and a qualifier between: still the visitor's
        ("I'm the clinic owner", "en", "decision_maker"),
        ("I'm the sole proprietor", "en", "decision_maker"),
        ("I'm the office junior", "en", "user"),
        # ... but a verb and a possessive between make it someone else's
        ("I'm helping our CEO", "en", None),
        # more individual contributors
        ("cloud architect", "en", "user"),
        ("temp", "en", "user"),
        ("volunteer at a food bank", "en", "user"),
        ("I work on the front desk", "en", "user"),
        # the visitor signs, presents or gathers requirements
        ("I'm the person who signs the contracts", "en", "decision_maker"),
        ("presenting it to the leadership team next week", "en", "influencer"),
        ("levanto requerimientos y decide el gerente", "es", "influencer"),
        # the visitor and a named senior deciding together
        ("it's me and my director", "en", "influencer"),
        ("lo vemos entre la gerente y yo", "es", "influencer"),
    ],
)
def test_claims_with_qualifiers_more_staff_and_joint_decisions(text, lang, level):
    parsed = parse_authority(text, lang)
    assert (None if parsed is None else parsed.level) == level, (text, parsed)


def test_a_preposition_is_no_word_of_a_title():
    # "del director" is no title "X director": the director belongs to someone else
    assert [role.title for role in visitor_roles(normalize("soy la asistente del director"))] == ["asistente"]
