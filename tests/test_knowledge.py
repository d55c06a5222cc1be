"""Answers to visitors' questions from config/knowledge.yml: the file is validated naming the
field, visitors' own wordings (typos, no accents, slang from Spain, Mexico and Argentina, short and
long, Spanish and English) reach the right entry, everything else gets "don't know" or is not a
question, and nothing a visitor types makes matching raise."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from leadqual.config.marketing import ConfigError
from leadqual.understanding import knowledge
from leadqual.understanding.knowledge import (
    DEFAULT_KNOWLEDGE,
    TOPICS,
    KnowledgeBase,
    KnowledgeError,
    answer,
    is_price_dependent,
    load_knowledge,
    looks_like_question,
    match,
)
from leadqual.understanding.parsing import normalize

DATA = yaml.safe_load(DEFAULT_KNOWLEDGE.read_text(encoding="utf-8"))
KB = load_knowledge()

# (what the visitor types, chat language, entry that must answer it). None of these is one of
# the file's example questions (checked below), so they test the matching, not a lookup.
QUESTIONS = [
    # pricing
    ("¿y el precio?", "es", "pricing_plans"),
    ("cuanto cuesta?", "es", "pricing_plans"),
    ("¿Cuánto sale por mes?", "es", "pricing_plans"),
    ("q precio tiene", "es", "pricing_plans"),
    ("presio?", "es", "pricing_plans"),
    ("how much is it", "en", "pricing_plans"),
    ("pricing?", "en", "pricing_plans"),
    ("whats the cost per user", "en", "pricing_plans"),
    ("Oigan, ¿cuánto cobran por la licencia?", "es", "pricing_plans"),
    ("che, cuánto sale esto por usuario?", "es", "pricing_plans"),
    ("¿cuánto me costaría para un equipo de 15 comerciales?", "es", "pricing_plans"),
    ("hola! me gustaría saber vuestras tarifas, gracias", "es", "pricing_plans"),
    ("how much do you charge", "en", "pricing_plans"),
    ("tarifas", "es", "pricing_plans"),
    ("is it pricey?", "en", "pricing_plans"),
    ("qué diferencia hay entre los planes?", "es", "pricing_plan_features"),
    ("what's included in the professional plan?", "en", "pricing_plan_features"),
    ("el plan basico incluye automatizacion de marketing?", "es", "pricing_plan_features"),
    ("y el plan empresa qué trae de más?", "es", "pricing_plan_features"),
    ("hay descuento por pagar anual?", "es", "pricing_billing"),
    ("can I pay month by month?", "en", "pricing_billing"),
    ("hay permanencia?", "es", "pricing_billing"),
    ("los precios son con iva?", "es", "pricing_billing"),
    ("do you offer discounts for annual billing", "en", "pricing_billing"),
    ("puedo darme de baja cuando quiera?", "es", "pricing_billing"),
    (
        "Buenas, una duda rápida antes de seguir: si contratamos el plan anual, ¿nos hacéis algún descuento "
        "respecto a pagar cada mes?",
        "es",
        "pricing_billing",
    ),
    ("¿algún coste oculto?", "es", "pricing_extras"),
    ("do you charge a setup fee?", "en", "pricing_extras"),
    ("el soporte se paga aparte?", "es", "pricing_extras"),
    ("any hidden fees?", "en", "pricing_extras"),
    # trial
    ("trial?", "en", "trial_free"),
    ("tienen prueba gratis?", "es", "trial_free"),
    ("se puede probar sin tarjeta?", "es", "trial_free"),
    ("do you guys have a free trial", "en", "trial_free"),
    ("cuantos dias de prueba dan?", "es", "trial_free"),
    ("puedo probarlo antes de pagar??", "es", "trial_free"),
    ("free version?", "en", "trial_free"),
    ("Tenés versión gratuita?", "es", "trial_free"),
    ("prueva gratuita", "es", "trial_free"),
    ("trial?", "es", "trial_free"),
    ("me podéis hacer una demo?", "es", "trial_demo"),
    ("can I get a demo", "en", "trial_demo"),
    ("quiero ver una demostracion del producto, se puede?", "es", "trial_demo"),
    ("how long does the demo take?", "en", "trial_demo"),
    ("hacen demos por zoom?", "es", "trial_demo"),
    ("qué pasa cuando se acaba la prueba?", "es", "trial_after"),
    ("will you charge me when the trial is over?", "en", "trial_after"),
    ("me cobráis algo al terminar los 14 días de prueba?", "es", "trial_after"),
    # integrations
    ("integra con salesforce?", "es", "integrations_crm"),
    ("se puede conectar con hubspot?", "es", "integrations_crm"),
    ("salesfroce integration?", "en", "integrations_crm"),
    ("works with hubspot?", "en", "integrations_crm"),
    ("Tienen integración con Sales Force?", "es", "integrations_crm"),
    (
        "Hola, buenas tardes. Estamos valorando cambiar de CRM porque el actual se nos queda corto, y antes de nada "
        "me gustaría saber si vuestro sistema se integra con Salesforce, que es lo que usa la central",
        "es",
        "integrations_crm",
    ),
    ("funciona con gmail?", "es", "integrations_email"),
    ("outlook integration?", "en", "integrations_email"),
    ("se sincroniza con el correo de outlook?", "es", "integrations_email"),
    ("does it sync with google calendar?", "en", "integrations_email"),
    ("tiene whatsapp?", "es", "integrations_messaging"),
    ("se integra con slack?", "es", "integrations_messaging"),
    ("can I use whatsapp with it?", "en", "integrations_messaging"),
    ("y con el wasap funciona?", "es", "integrations_messaging"),
    ("hay una API abierta?", "es", "integrations_api"),
    ("webhooks?", "en", "integrations_api"),
    ("zapier?", "es", "integrations_api"),
    ("what integrations are available?", "en", "integrations_api"),
    ("se puede conectar con nuestro ERP?", "es", "integrations_api"),
    # security
    ("cumplis con la rgpd?", "es", "security_gdpr"),
    ("gdpr?", "en", "security_gdpr"),
    ("are the servers in the EU?", "en", "security_gdpr"),
    ("dónde guardáis los datos?", "es", "security_gdpr"),
    ("firman un DPA?", "es", "security_gdpr"),
    ("is my data stored in europe?", "en", "security_gdpr"),
    (
        "Hi there, we're a 40-person distribution company in Valencia and our biggest worry is compliance: is all "
        "the data kept inside the EU and will you sign a DPA with us?",
        "en",
        "security_gdpr",
    ),
    ("estáis certificados en ISO 27001?", "es", "security_certifications"),
    ("is my data encrypted?", "en", "security_certifications"),
    ("qué tal la seguridad? está todo encriptado?", "es", "security_certifications"),
    ("do you do backups?", "en", "security_certifications"),
    ("sso?", "en", "security_sso"),
    ("tiene login con SAML?", "es", "security_sso"),
    ("do you support single sign on with okta?", "en", "security_sso"),
    ("hay doble factor de autenticacion?", "es", "security_sso"),
    # support
    ("horario de soporte?", "es", "support_hours"),
    ("what are your opening hours?", "en", "support_hours"),
    ("atienden los sábados?", "es", "support_hours"),
    ("is support available 24/7?", "en", "support_hours"),
    ("puedo llamar por teléfono al soporte?", "es", "support_channels"),
    ("do you have support in english?", "en", "support_channels"),
    ("como contacto con el soporte tecnico?", "es", "support_channels"),
    ("cuánto tardan en contestar si tengo un problema?", "es", "support_sla"),
    ("what's your SLA?", "en", "support_sla"),
    ("tendríamos un gestor de cuenta dedicado?", "es", "support_sla"),
    # onboarding
    ("cuanto se tarda en poner en marcha?", "es", "onboarding_setup"),
    ("how long does implementation take?", "en", "onboarding_setup"),
    ("hay que instalar algo en los ordenadores?", "es", "onboarding_setup"),
    ("is it easy to set up?", "en", "onboarding_setup"),
    ("podemos importar nuestros contactos de excel?", "es", "onboarding_migration"),
    ("can you help us migrate from hubspot?", "en", "onboarding_migration"),
    ("la migración de datos la hacéis vosotros?", "es", "onboarding_migration"),
    ("dais formación al equipo?", "es", "onboarding_training"),
    ("do you offer training?", "en", "onboarding_training"),
    ("hay tutoriales o videos para aprender?", "es", "onboarding_training"),
    # company
    ("quienes son ustedes?", "es", "company_about"),
    ("where are you located?", "en", "company_about"),
    ("de donde sois?", "es", "company_about"),
    ("when was nubilo founded?", "en", "company_about"),
    ("cuántos clientes tenéis?", "es", "company_customers"),
    ("do you have any case studies?", "en", "company_customers"),
    ("quien mas usa nubilo?", "es", "company_customers"),
    ("qué hace exactamente nubilo?", "es", "company_product"),
    ("do you have a mobile app?", "en", "company_product"),
    ("tiene informes?", "es", "company_product"),
    # Two more batches, written later without looking at the scores (the ones they missed are in
    # KNOWN_MISSES below).
    ("precio del plan profesional?", "es", "pricing_plans"),
    ("what does the enterprise plan cost?", "en", "pricing_plans"),
    ("tenéis precios para startups?", "es", "pricing_plans"),
    ("me pasas la lista de precios?", "es", "pricing_plans"),
    ("cuál es la diferencia entre profesional y empresa?", "es", "pricing_plan_features"),
    ("does basic include email campaigns?", "en", "pricing_plan_features"),
    ("is VAT included?", "en", "pricing_billing"),
    ("hay contrato de permanencia mínima?", "es", "pricing_billing"),
    ("the support costs extra?", "en", "pricing_extras"),
    ("hay que pagar algo por dar de alta la cuenta?", "es", "pricing_extras"),
    ("puedo probar nubilo unos dias sin pagar?", "es", "trial_free"),
    ("do you need my card for the trial?", "en", "trial_free"),
    ("existe un plan free?", "es", "trial_free"),
    ("quiero agendar una demo", "es", "trial_demo"),
    ("could someone show me how it works?", "en", "trial_demo"),
    ("después de los 14 días qué pasa con mis datos?", "es", "trial_after"),
    ("can the trial be extended?", "en", "trial_after"),
    ("sincroniza con salesforce en tiempo real?", "es", "integrations_crm"),
    ("we use hubspot today, can nubilo connect to it?", "en", "integrations_crm"),
    ("se integra con office 365?", "es", "integrations_email"),
    ("does it log my gmail emails?", "en", "integrations_email"),
    ("puedo recibir alertas en slack?", "es", "integrations_messaging"),
    ("whatsapp business?", "en", "integrations_messaging"),
    ("tienen api rest documentada?", "es", "integrations_api"),
    ("can I use zapier to connect our invoicing tool?", "en", "integrations_api"),
    ("los datos se quedan en europa?", "es", "security_gdpr"),
    ("do you comply with gdpr?", "en", "security_gdpr"),
    ("what certifications do you hold?", "en", "security_certifications"),
    ("puedo entrar con mi cuenta de google workspace por sso?", "es", "security_sso"),
    ("2fa?", "en", "security_sso"),
    ("el soporte funciona los domingos?", "es", "support_hours"),
    ("what hours is support open?", "en", "support_hours"),
    ("tenéis soporte en español?", "es", "support_channels"),
    ("cuál es el tiempo de respuesta en el plan básico?", "es", "support_sla"),
    ("do you guarantee response times?", "en", "support_sla"),
    ("how long does onboarding take?", "en", "onboarding_setup"),
    ("me ayudan a pasar los datos de mi excel?", "es", "onboarding_migration"),
    ("can you import our data from pipedrive?", "en", "onboarding_migration"),
    ("hay formación para los comerciales?", "es", "onboarding_training"),
    ("is there any training material?", "en", "onboarding_training"),
    ("dónde tenéis la sede?", "es", "company_about"),
    ("con qué empresas trabajáis?", "es", "company_customers"),
    ("any customers in Mexico?", "en", "company_customers"),
    ("tiene app para android?", "es", "company_product"),
    ("can I build dashboards?", "en", "company_product"),
    ("oye y esto cuanto vale al mes por cabeza?", "es", "pricing_plans"),
    ("how much per user per month?", "en", "pricing_plans"),
    ("cuanto sale el plan basico?", "es", "pricing_plans"),
    ("precios para 50 usuarios?", "es", "pricing_plans"),
    ("what's different in enterprise vs professional?", "en", "pricing_plan_features"),
    ("is there a monthly option or only yearly?", "en", "pricing_billing"),
    ("si pago anual me hacéis descuento?", "es", "pricing_billing"),
    ("puedo cancelar en cualquier momento?", "es", "pricing_billing"),
    ("hay free trial?", "es", "trial_free"),
    ("can i test nubilo for free", "en", "trial_free"),
    ("necesito meter la tarjeta para la prueba?", "es", "trial_free"),
    ("una demo porfa", "es", "trial_demo"),
    ("i'd like to see a demo", "en", "trial_demo"),
    ("se me borran los datos si no contrato despues de la prueba?", "es", "trial_after"),
    ("conectáis con salesforce?", "es", "integrations_crm"),
    ("hubspot sync?", "en", "integrations_crm"),
    ("se integra con gmail y google calendar?", "es", "integrations_email"),
    ("outlook?", "es", "integrations_email"),
    ("podemos usar whatsapp para atender clientes?", "es", "integrations_messaging"),
    ("slack notifications?", "en", "integrations_messaging"),
    ("do you have an open api with webhooks?", "en", "integrations_api"),
    ("se puede conectar con zapier?", "es", "integrations_api"),
    ("dónde están vuestros servidores?", "es", "security_gdpr"),
    ("do you sign data processing agreements?", "en", "security_gdpr"),
    ("is the platform ISO certified?", "en", "security_certifications"),
    ("los datos van encriptados?", "es", "security_certifications"),
    ("saml sso on which plan?", "en", "security_sso"),
    ("se puede activar la autenticación de dos factores?", "es", "security_sso"),
    ("a qué hora cierra el soporte?", "es", "support_hours"),
    ("is support open on weekends?", "en", "support_hours"),
    ("qué tiempos de respuesta tenéis?", "es", "support_sla"),
    ("what's the response time on the basic plan?", "en", "support_sla"),
    ("is it complicated to set up?", "en", "onboarding_setup"),
    ("podéis migrar nuestros datos desde hubspot?", "es", "onboarding_migration"),
    ("can I import a spreadsheet of leads?", "en", "onboarding_migration"),
    ("hay webinars de formación?", "es", "onboarding_training"),
    ("do you train new users?", "en", "onboarding_training"),
    ("que es nubilo exactamente?", "es", "company_about"),
    ("where's nubilo based?", "en", "company_about"),
    ("tenéis casos de éxito en retail?", "es", "company_customers"),
    ("how many customers do you have?", "en", "company_customers"),
    ("tiene app movil?", "es", "company_product"),
    ("does it include a helpdesk for customer tickets?", "en", "company_product"),
]

# Questions the matching gets wrong or does not answer (synonyms the file lacks, Spanish verb
# endings, two entries that share their words). Strict: the day one passes, move it up.
KNOWN_MISSES = [
    ("cuánto pagaría al año por 5 usuarios?", "es", "pricing_plans"),
    ("se puede pagar con transferencia?", "es", "pricing_billing"),
    ("cifráis los datos en reposo?", "es", "security_certifications"),
    ("can I call support?", "en", "support_channels"),
    ("en cuánto tiempo lo tendríamos funcionando?", "es", "onboarding_setup"),
    ("how big is your company?", "en", "company_about"),
    ("el profesional tiene informes?", "es", "pricing_plan_features"),
    ("is there any fee for setting it up?", "en", "pricing_extras"),
    ("hay gastos extra además de la licencia?", "es", "pricing_extras"),
    ("at the end of the trial will it charge my card?", "en", "trial_after"),
    ("cuál es el correo de soporte?", "es", "support_channels"),
    ("how can I reach support?", "en", "support_channels"),
    ("cuánto tardaríamos en tenerlo funcionando?", "es", "onboarding_setup"),
    ("which plan should I pick?", "en", "pricing_plan_features"),
]

# Chit-chat, answers to the qualification questions, names and out-of-scope questions: the chat
# must not answer them from the knowledge (not a question, or "don't know").
NOT_ANSWERED = [
    ("hola", "es"),
    ("hola, qué tal?", "es"),
    ("buenos días", "es"),
    ("gracias!", "es"),
    ("vale", "es"),
    ("ok perfecto", "es"),
    ("sí", "es"),
    ("no", "es"),
    ("unos 5000 euros", "es"),
    ("tenemos 10.000 € al año", "es"),
    ("soy el CEO", "es"),
    ("lo decido yo", "es"),
    ("me llamo Ana García", "es"),
    ("Juan Pérez", "es"),
    ("ana@empresa.com", "es"),
    ("Acme S.L.", "es"),
    ("en 3 meses", "es"),
    ("lo antes posible", "es"),
    ("necesitamos un crm para el equipo comercial", "es"),
    ("somos 20 personas", "es"),
    ("qué tiempo hace?", "es"),
    ("qué tiempo hace hoy en Madrid?", "es"),
    ("¿quién ganó el partido ayer?", "es"),
    ("me cuentas un chiste?", "es"),
    ("¿cuál es la capital de Francia?", "es"),
    ("asdfgh", "es"),
    ("jajaja", "es"),
    ("¿cómo estás?", "es"),
    ("¿eres un robot?", "es"),
    ("hi", "en"),
    ("thanks a lot", "en"),
    ("what's the weather like?", "en"),
    ("who won the game last night?", "en"),
    ("I'm the head of sales", "en"),
    ("we are 20 people", "en"),
    ("next quarter", "en"),
    ("tell me a joke", "en"),
    ("do you like pizza?", "en"),
    ("how are you?", "en"),
    ("my name is John Smith", "en"),
    ("around 2k per month", "en"),
]

# Questions out of the knowledge's scope: they are questions, and `match` finds nothing.
OUT_OF_SCOPE = [
    ("qué tiempo hace?", "es"),
    ("qué tiempo hace hoy en Madrid?", "es"),
    ("¿quién ganó el partido ayer?", "es"),
    ("me cuentas un chiste?", "es"),
    ("¿cuál es la capital de Francia?", "es"),
    ("¿me recomiendas un restaurante por aquí?", "es"),
    ("¿a qué hora sale el tren a Valencia?", "es"),
    ("what's the weather like?", "en"),
    ("who won the game last night?", "en"),
    ("do you like pizza?", "en"),
    ("can you write my homework?", "en"),
    ("what is the meaning of life?", "en"),
    ("qué hora es?", "es"),
    ("cuánto es 2 más 2?", "es"),
    ("dónde puedo comprar un coche barato?", "es"),
    ("tienes novia?", "es"),
    ("cuál es tu color favorito?", "es"),
    ("quién es el presidente de España?", "es"),
    ("me ayudas con mi declaración de la renta?", "es"),
    ("qué películas hay en el cine?", "es"),
    ("sabes cocinar paella?", "es"),
    ("what time is it?", "en"),
    ("where can I buy cheap flights?", "en"),
    ("can you help me with my taxes?", "en"),
    ("who is the president of the US?", "en"),
    ("what's your favourite movie?", "en"),
    ("how do I cook pasta?", "en"),
    ("is it going to rain tomorrow?", "en"),
    ("can you sing?", "en"),
    ("do you know any good hotels in Madrid?", "en"),
    ("how old are you?", "en"),
    ("qué opinas del fútbol?", "es"),
    ("trabajáis con la competencia?", "es"),
    ("cuántos años tienes?", "es"),
    ("me prestas dinero?", "es"),
    ("what's the best pizza in town?", "en"),
    ("qué día es hoy?", "es"),
    ("cómo se llama tu perro?", "es"),
    ("dónde está el baño?", "es"),
    ("cuántos años tiene el universo?", "es"),
    ("sabes algo de fútbol?", "es"),
    ("me recomiendas una peli?", "es"),
    ("puedes traducir esto al francés?", "es"),
    ("quién inventó internet?", "es"),
    ("qué opinas de la política?", "es"),
    ("what's 5 times 7?", "en"),
    ("where do you live?", "en"),
    ("can you order me a pizza?", "en"),
    ("do you dream?", "en"),
    ("who wrote hamlet?", "en"),
    ("what's the capital of italy?", "en"),
    ("is it sunny in london?", "en"),
    ("how tall is the eiffel tower?", "en"),
    ("can you recommend a good book?", "en"),
    ("what music do you like?", "en"),
]

# Out-of-scope questions that share the product's words: answered from the knowledge (wrongly).
KNOWN_FALSE_ANSWERS = [
    ("cuánto cuesta un billete a Londres?", "es"),
    ("a qué hora abre el supermercado?", "es"),
]


def _examples() -> set[str]:
    out = set()
    for entry in DATA["entries"]:
        for lang in ("es", "en"):
            out |= {normalize(q).strip("¿?¡! ") for q in entry["questions"][lang]}
    return out


def test_the_visitor_questions_are_not_the_files_examples():
    examples = _examples()
    assert not [q for q, _, _ in QUESTIONS if normalize(q).strip("¿?¡! ") in examples]
    assert len(QUESTIONS) >= 60 and len(NOT_ANSWERED) >= 20


@pytest.mark.parametrize(("text", "lang", "entry_id"), QUESTIONS)
def test_visitor_questions_reach_the_right_entry(text, lang, entry_id):
    found = match(text, lang)
    assert found is not None, f"no match for {text!r}"
    assert found.entry.id == entry_id, f"{text!r} -> {found.entry.id} ({found.score}, {found.words})"
    assert found.score >= KB.threshold
    assert found.words, "the words that carried the match"


def test_every_entry_is_reached_by_some_visitor_question():
    reached = {entry_id for _, _, entry_id in QUESTIONS}
    assert reached == {e.id for e in KB.entries}


@pytest.mark.xfail(strict=True, reason="known limit of bag-of-words matching")
@pytest.mark.parametrize(("text", "lang", "entry_id"), KNOWN_MISSES)
def test_known_misses(text, lang, entry_id):
    found = match(text, lang)
    assert found is not None and found.entry.id == entry_id


@pytest.mark.xfail(strict=True, reason="known limit of bag-of-words matching")
@pytest.mark.parametrize(("text", "lang"), KNOWN_FALSE_ANSWERS)
def test_known_false_answers(text, lang):
    assert match(text, lang) is None


@pytest.mark.parametrize(("text", "lang"), NOT_ANSWERED)
def test_chit_chat_and_answers_are_not_answered(text, lang):
    assert not looks_like_question(text, lang) or not answer(text, lang).known


@pytest.mark.parametrize(("text", "lang"), OUT_OF_SCOPE)
def test_out_of_scope_questions_get_dont_know(text, lang):
    assert looks_like_question(text, lang)
    assert match(text, lang) is None
    reply = answer(text, lang)
    assert not reply.known and reply.dont_know and reply.entry_id is None
    assert reply.text == KB.fallback.get(lang)


def test_answers_are_in_the_chats_language():
    es, en = answer("¿hay prueba gratis?", "es"), answer("is there a free trial", "en")
    assert es.known and en.known and es.entry_id == en.entry_id == "trial_free"
    assert es.text == KB.entry("trial_free").answer.es and "14 días" in es.text
    assert en.text == KB.entry("trial_free").answer.en and "14 days" in en.text
    # English typed in a Spanish chat: answered in Spanish.
    assert answer("do you integrate with salesforce?", "es").text == KB.entry("integrations_crm").answer.es
    assert answer("¿y el precio?", "es-MX").lang == "es"


def test_the_words_that_carried_a_match():
    found = match("¿se integra con Salesforce?", "es")
    assert found.entry.id == "integrations_crm"
    assert found.words[0] == "salesforce"
    assert "con" not in found.words and "se" not in found.words
    assert match("presio?", "es").words == ("presio",)


def test_the_threshold_comes_from_the_file(tmp_path):
    text = "cuánto tardan en contestar si tengo un problema?"
    score = match(text, "es").score
    strict = KnowledgeBase(**{**DATA, "threshold": min(0.99, score + 0.01)})
    assert match(text, "es", kb=strict) is None
    assert not answer(text, "es", kb=strict).known
    assert match(text, "es", kb=KnowledgeBase(**{**DATA, "threshold": 0.05})) is not None


def test_one_word_needs_a_keyword():
    # "tiempo" is in examples ("¿cuánto tiempo lleva...?") but does not mean an entry on its own.
    assert match("¿tiempo?", "es") is None
    assert match("¿precios?", "es").entry.id == "pricing_plans"


def test_matching_is_deterministic():
    texts = [q for q, _, _ in QUESTIONS] + [t for t, _ in NOT_ANSWERED]
    first = [(m.entry.id, m.score, m.words) if (m := match(t, "es")) else None for t in texts]
    fresh = load_knowledge()  # a new index, built again
    again = [(m.entry.id, m.score, m.words) if (m := match(t, "es", kb=fresh)) else None for t in texts]
    assert first == again
    assert [answer(t, "en").to_dict() for t in texts[:20]] == [answer(t, "en").to_dict() for t in texts[:20]]


_MATCH_ALL = """
import json, sys
from leadqual.understanding.knowledge import match
texts = json.load(sys.stdin)
print(json.dumps([[m.entry.id, m.score, list(m.words)] if (m := match(t, "es")) else None for t in texts]))
"""


def test_matching_is_the_same_in_every_process():
    """Nothing depends on set or hash order: two processes with different hash seeds agree."""
    texts = [q for q, _, _ in QUESTIONS + KNOWN_MISSES] + [t for t, _ in NOT_ANSWERED + KNOWN_FALSE_ANSWERS]
    outputs = []
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", _MATCH_ALL],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            cwd=DEFAULT_KNOWLEDGE.parents[1],
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert sum(1 for o in outputs[0] if o) >= len(QUESTIONS)


ODD = [
    "",
    "   ",
    "\n\t",
    "?",
    "¿¡!?",
    "a" * 5000,
    "¿precio? " * 600,
    "😀😀😀",
    "¿precio? 😀",
    "<script>alert('x')</script>",
    "<b>¿tenéis API?</b>",
    "'; DROP TABLE leads; --",
    "\x00\x01\x02",
    "𝓅𝓇𝑒𝒸𝒾𝑜",
    "ｐｒｅｃｉｏ？",
    "١٢٣٤",
    "price" * 300,
    None,
    12,
    ["precio"],
]


@pytest.mark.parametrize("text", ODD)
def test_odd_input_never_raises(text):
    found = match(text, "es")
    assert found is None or found.entry in KB.entries
    reply = answer(text, "en")
    assert isinstance(reply.text, str) and reply.text
    assert isinstance(looks_like_question(text, "es"), bool)
    assert isinstance(is_price_dependent(text, "es"), bool)


def test_very_long_messages_are_not_looked_up_and_stay_fast():
    start = time.perf_counter()
    assert match("¿precio? " * 600, "es") is None  # over MAX_INPUT
    assert match(("hola " * 190) + "¿cuánto cuesta?", "es").entry.id == "pricing_plans"
    assert time.perf_counter() - start < 0.5


def test_html_around_a_question_still_matches():
    assert match("<b>¿tenéis API?</b>", "es").entry.id == "integrations_api"


# -- is the visitor asking? -------------------------------------------------------------------

QUESTION_FORMS = [
    ("¿y el precio?", "es"),
    ("trial?", "en"),
    ("integra con salesforce?", "es"),
    ("cuanto cuesta", "es"),
    ("que precio tiene", "es"),
    ("tienen prueba gratis", "es"),
    ("teneis api", "es"),
    ("se integra con hubspot", "es"),
    ("hay descuento anual", "es"),
    ("me gustaría saber si tenéis soporte en inglés", "es"),
    ("quería saber el horario del soporte", "es"),
    ("una duda: la migración tiene coste", "es"),
    ("dime los precios", "es"),
    ("info sobre seguridad", "es"),
    ("do you have a free trial", "en"),
    ("does it work with outlook", "en"),
    ("how much is it", "en"),
    ("is there an API", "en"),
    ("i'd like to know where the data is stored", "en"),
    ("tell me about your plans", "en"),
    ("can we pay monthly", "en"),
    ("where are you based", "en"),
]

NOT_QUESTIONS = [
    ("unos 5000 euros", "es"),
    ("soy el CEO", "es"),
    ("lo decido yo", "es"),
    ("me llamo Ana", "es"),
    ("necesito un CRM", "es"),
    ("necesitamos automatizar el marketing", "es"),
    ("hay 20 personas en el equipo", "es"),
    ("cuanto antes", "es"),
    ("como unos 3000 al año", "es"),
    ("cuando tengamos presupuesto", "es"),
    ("quien decide soy yo", "es"),
    ("hola", "es"),
    ("¿qué tal?", "es"),
    ("¿hay alguien?", "es"),
    ("gracias", "es"),
    ("what we need is a CRM", "en"),
    ("I'm the decision maker", "en"),
    ("around 10k a year", "en"),
    ("how are you?", "en"),
    ("are you a bot?", "en"),
    ("ok", "en"),
    ("", "es"),
]


@pytest.mark.parametrize(("text", "lang"), QUESTION_FORMS)
def test_questions_are_recognised(text, lang):
    assert looks_like_question(text, lang)


@pytest.mark.parametrize(("text", "lang"), NOT_QUESTIONS)
def test_answers_and_small_talk_are_not_questions(text, lang):
    assert not looks_like_question(text, lang)


# -- budget answers that wait on the price ------------------------------------------------------

PRICE_DEPENDENT = [
    ("depende del precio", "es"),
    ("Depende del precio, la verdad", "es"),
    ("según lo que cueste", "es"),
    ("segun el precio", "es"),
    ("no sé, ¿cuánto cuesta?", "es"),
    ("depende de lo que cueste", "es"),
    ("dependerá de vuestras tarifas", "es"),
    ("en función del precio", "es"),
    ("dependiendo de cuánto salga", "es"),
    ("¿cuánto vale?", "es"),
    ("pues no sé, ¿cuál es el precio?", "es"),
    ("si el precio encaja, adelante", "es"),
    ("depends on the price", "en"),
    ("it depends on pricing", "en"),
    ("depending on the cost", "en"),
    ("not sure, how much is it?", "en"),
    ("that depends on what you charge", "en"),
    ("what's the price?", "en"),
]

NOT_PRICE_DEPENDENT = [
    ("depende de mi jefe", "es"),
    ("depende", "es"),
    ("no sé", "es"),
    ("no depende del precio", "es"),
    ("el precio no es problema", "es"),
    ("unos 5000 euros al año", "es"),
    ("no tenemos presupuesto", "es"),
    ("depende del número de usuarios", "es"),
    ("it depends on my boss", "en"),
    ("it doesn't depend on the price", "en"),
    ("around 10k", "en"),
    ("price is not an issue", "en"),
    ("no idea", "en"),
]


@pytest.mark.parametrize(("text", "lang"), PRICE_DEPENDENT)
def test_price_dependent_budget_answers(text, lang):
    assert is_price_dependent(text, lang)


@pytest.mark.parametrize(("text", "lang"), NOT_PRICE_DEPENDENT)
def test_other_budget_answers_are_not_price_dependent(text, lang):
    assert not is_price_dependent(text, lang)


def test_price_band_and_continue_prompt_per_language():
    assert knowledge.price_band("es") == KB.price_band.es and "€" in knowledge.price_band("es")
    assert knowledge.price_band("en") == KB.price_band.en
    assert knowledge.continue_prompt("es") == "¿Seguimos con las preguntas?"
    assert knowledge.continue_prompt("en") == KB.continue_prompt.en
    assert knowledge.price_band("fr") == KB.price_band.es  # unknown language: Spanish


# -- the file ---------------------------------------------------------------------------------


def test_the_shipped_file_covers_every_topic_in_both_languages():
    by_topic = {t: [e for e in KB.entries if e.topic == t] for t in TOPICS}
    assert all(2 <= len(entries) <= 4 for entries in by_topic.values()), {t: len(v) for t, v in by_topic.items()}
    for entry in KB.entries:
        assert len(entry.questions.es) >= 5 and len(entry.questions.en) >= 5, entry.id
        assert entry.answer.es != entry.answer.en
    assert 0 < KB.threshold < 1


def test_prices_match_the_website():
    for path, lang in (("web/site/precios/index.html", "es"), ("web/site/en/pricing/index.html", "en")):
        page = (DEFAULT_KNOWLEDGE.parents[1] / path).read_text(encoding="utf-8")
        plans = KB.entry("pricing_plans").answer.get(lang)
        for price in ("25", "59"):
            assert f"{price} €" in page or f"€{price}" in page
            assert f"{price} €" in plans or f"€{price}" in plans


def broken(tmp_path, change) -> str:
    """Load a copy of the shipped knowledge.yml after `change(data)`; return the error."""
    data = copy.deepcopy(DATA)
    change(data)
    path = tmp_path / "knowledge.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(path)
    assert isinstance(err.value, ConfigError)
    return str(err.value)


def test_an_entry_missing_its_english_answer_names_the_field(tmp_path):
    error = broken(tmp_path, lambda d: d["entries"][3]["answer"].pop("en"))
    assert "knowledge.yml is invalid" in error
    assert "entries[3].answer.en" in error and "Field required" in error


def test_a_duplicate_id_names_the_entry(tmp_path):
    def change(d):
        d["entries"][5]["id"] = d["entries"][1]["id"]

    error = broken(tmp_path, change)
    assert "entries[5].id" in error and "duplicate" in error


def test_an_unknown_topic_names_the_entry(tmp_path):
    error = broken(tmp_path, lambda d: d["entries"][2].update(topic="weather"))
    assert "entries[2].topic" in error and "pricing" in error


def test_empty_questions_name_the_field(tmp_path):
    assert "entries[0].questions.es" in broken(tmp_path, lambda d: d["entries"][0]["questions"].update(es=[]))
    error = broken(tmp_path, lambda d: d["entries"][4]["questions"]["en"].__setitem__(1, "  "))
    assert "entries[4].questions.en[1]" in error and "empty" in error


def test_other_problems_name_the_field(tmp_path):
    assert "threshold" in broken(tmp_path, lambda d: d.update(threshold=1.5))
    assert "fallback.en" in broken(tmp_path, lambda d: d["fallback"].update(en=""))
    assert "continue_prompt" in broken(tmp_path, lambda d: d.pop("continue_prompt"))
    assert "price_band.es" in broken(tmp_path, lambda d: d["price_band"].pop("es"))
    long_answer = broken(tmp_path, lambda d: d["entries"][1]["answer"].update(es="x" * 600))
    assert "entries[1].answer.es" in long_answer and "500" in long_answer
    two_links = broken(tmp_path, lambda d: d["entries"][0]["answer"].update(en="[a](/a/) and [b](/b/)"))
    assert "entries[0].answer.en" in two_links and "one link" in two_links
    assert "entries[0].answer.es" in broken(
        tmp_path, lambda d: d["entries"][0]["answer"].update(es="[a](javascript:x)")
    )
    assert "entries[0].colour" in broken(tmp_path, lambda d: d["entries"][0].update(colour="red"))
    assert "entries[0].keywords.es[0]" in broken(tmp_path, lambda d: d["entries"][0]["keywords"]["es"].insert(0, ""))


def test_the_same_example_in_two_entries_is_an_error(tmp_path):
    def change(d):
        d["entries"][6]["questions"]["es"].append(d["entries"][0]["questions"]["es"][0].upper())

    error = broken(tmp_path, change)
    assert "entries[6].questions.es" in error and repr(DATA["entries"][0]["id"]) in error


def test_a_missing_or_broken_file_is_a_knowledge_error(tmp_path):
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_knowledge(tmp_path / "nope.yml")
    (tmp_path / "bad.yml").write_text("entries: [", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        load_knowledge(tmp_path / "bad.yml")


def test_problems_lists_every_field_without_raising():
    data = copy.deepcopy(DATA)
    data["entries"][3]["answer"].pop("en")
    data["entries"][2]["topic"] = "weather"
    fields = {p["field"] for p in knowledge.problems(data)}
    assert {"entries[3].answer.en", "entries[2].topic"} <= fields
    assert knowledge.problems(DATA) == []
    assert knowledge.problems("nope")[0]["message"] == "must be a mapping"
