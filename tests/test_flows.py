"""Flow versions: seeded from the repo's files, published only when valid, restorable, read by
every action server within seconds, pinned per conversation; on SQLite and PostgreSQL."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import create_engine

from leadqual.config.marketing import load_messages, load_qualification
from leadqual.conversation.flows import (
    Drafts,
    FlowInvalid,
    FlowStore,
    FlowVersion,
    changed_paths,
    files_content,
    knowledge_file_content,
    load_draft,
    load_draft_knowledge,
)
from leadqual.understanding import knowledge


@pytest.fixture
def flows(store):
    return FlowStore(store.engine, refresh_seconds=0)


def draft():
    return copy.deepcopy(files_content())


def test_a_fresh_install_is_seeded_from_the_repo_files(flows):
    flow = flows.current()
    assert flow.version == 1 and flow.config.version == 1
    assert flow.messages.questions["budget"].ask == load_messages().questions["budget"].ask
    (first,) = flows.history()
    assert (first["version"], first["created_by"], first["changes"]) == (1, "seed", [])


def test_publishing_records_who_and_what_changed_and_every_server_sees_it(flows, store):
    other_server = FlowStore(store.engine, refresh_seconds=0)
    assert other_server.current().version == 1
    qualification, messages = draft()
    messages["questions"]["budget"]["ask"]["es"] = "¿Qué presupuesto tenéis pensado?"
    qualification["budget"]["points"]["qualifies"] = 35
    flow = flows.publish(qualification, messages, by="marta@nubilo.es", note="budget wording")
    assert flow.version == 2 and flow.config.version == 2
    newest = flows.history()[0]
    assert newest["created_by"] == "marta@nubilo.es" and newest["note"] == "budget wording"
    assert newest["changes"] == ["messages.questions.budget.ask.es", "qualification.budget.points.qualifies"]
    # Another action server reads it at its next check (LEADQUAL_FLOW_REFRESH_SECONDS).
    assert other_server.current().version == 2
    assert other_server.current().texts.question("budget", "es")["text"] == "¿Qué presupuesto tenéis pensado?"
    # A conversation that started on version 1 keeps it.
    assert other_server.get(1).texts.question("budget", "es")["text"] != "¿Qué presupuesto tenéis pensado?"


def test_a_broken_flow_cannot_be_published_and_the_errors_name_the_fields(flows):
    qualification, messages = draft()
    qualification["stages"]["sql"]["min_score"] = "sixty"
    del messages["questions"]["email"]["ask"]["en"]
    qualification["handoff"]["rules"][0]["assign_to"] = ["nobody"]
    with pytest.raises(FlowInvalid) as invalid:
        flows.publish(qualification, messages, by="marta@nubilo.es")
    fields = {p["field"] for p in invalid.value.problems}
    assert "qualification.stages.sql.min_score" in fields
    assert "messages.questions.email.ask.en" in fields
    assert flows.current().version == 1  # nothing was published


def test_publishing_nothing_new_is_refused(flows):
    with pytest.raises(ValueError, match="nothing changed"):
        flows.publish(*draft(), by="marta@nubilo.es")


def test_any_version_can_be_restored_as_a_new_one(flows):
    qualification, messages = draft()
    messages["responses"]["utter_greet"]["es"] = "¡Buenas! ¿En qué te ayudo?"
    flows.publish(qualification, messages, by="marta@nubilo.es")
    restored = flows.restore(1, by="admin@nubilo.es")
    assert restored.version == 3
    assert restored.messages.responses["utter_greet"] == flows.get(1).messages.responses["utter_greet"]
    newest = flows.history()[0]
    assert newest["restored_from"] == 1 and newest["note"] == "restored version 1"
    assert newest["changes"] == ["messages.responses.utter_greet.es"]


def test_export_writes_the_repo_format_and_reads_back_unchanged(flows, tmp_path):
    qualification, messages = draft()
    messages["questions"]["need"]["why"]["en"] = "So we show you the right part of Nubilo."
    flows.publish(qualification, messages, by="marta@nubilo.es")
    q_path, m_path, k_path = flows.export(2, tmp_path)
    assert k_path.name == "knowledge.yml" and "entries" in k_path.read_text(encoding="utf-8")
    assert load_qualification(q_path).version == 2
    assert load_messages(m_path).questions["need"].why.en == "So we show you the right part of Nubilo."
    with pytest.raises(ValueError, match="nothing changed"):
        flows.publish(*load_draft(tmp_path), by="marta@nubilo.es")


def test_without_a_database_the_chat_runs_on_the_repo_files():
    flows = FlowStore(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), refresh_seconds=0)
    assert flows.current().version == 1


def test_changed_paths_lists_leaves_and_items():
    old = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    new = {"a": {"b": 2, "c": [1, 3]}, "e": 1}
    assert changed_paths(old, new) == ["a.b", "a.c.1", "d", "e"]
    # Items with ids are compared by id: one added in front is one change, not every item.
    before = [{"id": "a", "x": 1}, {"id": "b", "x": 2}]
    after = [{"id": "new", "x": 0}, {"id": "a", "x": 1}, {"id": "b", "x": 3}]
    assert changed_paths({"l": before}, {"l": after}) == ["l.b.x", "l.new"]


def test_the_command_line_exports_publishes_and_refuses_a_broken_draft(tmp_path, capsys):
    from leadqual.tools import cli

    url = f"sqlite:///{tmp_path / 'leads.db'}"
    assert cli.main(["--database-url", url, "flow", "export", str(tmp_path / "draft")]) == 0
    messages = tmp_path / "draft" / "messages.yml"
    messages.write_text(messages.read_text(encoding="utf-8").replace("¡Hola!", "¡Buenas!", 1), encoding="utf-8")
    assert cli.main(["--database-url", url, "flow", "publish", str(tmp_path / "draft"), "--by", "marta"]) == 0
    assert "published version 2" in capsys.readouterr().out
    qualification = tmp_path / "draft" / "qualification.yml"
    qualification.write_text(
        qualification.read_text(encoding="utf-8").replace("min_score: 80", "min_score: lots"), encoding="utf-8"
    )
    assert cli.main(["--database-url", url, "flow", "publish", str(tmp_path / "draft"), "--by", "marta"]) == 2
    assert "qualification.stages.sql.min_score" in capsys.readouterr().err
    assert cli.main(["--database-url", url, "flow", "history"]) == 0
    assert "v2" in capsys.readouterr().out


def test_the_command_line_dry_run_prints_both_versions(tmp_path, capsys):
    from leadqual.tools import cli

    url = f"sqlite:///{tmp_path / 'leads.db'}"
    assert cli.main(["--database-url", url, "flow", "export", str(tmp_path / "draft")]) == 0
    qualification = tmp_path / "draft" / "qualification.yml"
    qualification.write_text(
        qualification.read_text(encoding="utf-8").replace("min_score: 80", "min_score: 90"), encoding="utf-8"
    )
    capsys.readouterr()
    assert cli.main(["--database-url", url, "flow", "dryrun", str(tmp_path / "draft")]) == 0
    out = capsys.readouterr().out
    marketing = next(line for line in out.splitlines() if line.startswith("Responsable de marketing"))
    assert marketing.split()[-2:] == ["stage,", "sales_ready"]


# -- drafts and previews ----------------------------------------------------------------------


def test_drafts_are_saved_valid_or_not_and_published_when_valid(flows):
    from leadqual.conversation.flows import Drafts

    drafts = Drafts(flows)
    qualification, messages = draft()
    messages["questions"]["timing"]["ask"]["es"] = ""
    qualification["max_reasks"] = 9
    draft_id, problems = drafts.save(qualification, messages, by="marta@nubilo.es")
    assert {p["field"] for p in problems} >= {"qualification.max_reasks"}
    assert drafts.flow(draft_id) is None  # an invalid draft cannot even be previewed
    qualification["max_reasks"] = 1
    messages["questions"]["timing"]["ask"]["es"] = "¿Para cuándo lo necesitáis?"
    assert drafts.save(qualification, messages, by="marta@nubilo.es", draft_id=draft_id) == (draft_id, [])
    preview = flows.resolve(f"draft:{draft_id}")
    assert (
        preview.draft_id == draft_id and preview.texts.question("timing", "es")["text"] == "¿Para cuándo lo necesitáis?"
    )
    assert flows.current().version == 1  # saving is not publishing
    published = drafts.publish(draft_id, by="marta@nubilo.es", note="timing")
    assert published.version == 2 and published.config.max_reasks == 1
    assert drafts.get(draft_id) is None
    assert flows.resolve(f"draft:{draft_id}").version == 2  # a gone draft falls back to the current flow


def test_only_a_signed_unexpired_token_opens_a_preview():
    from leadqual.conversation.flows import check_preview_token, preview_token

    token = preview_token(7, secret="s3cret", ttl=60, now=1000)
    assert check_preview_token(token, secret="s3cret", now=1030) == 7
    assert check_preview_token(token, secret="s3cret", now=1061) is None  # expired
    assert check_preview_token(token, secret="other", now=1030) is None
    forged = "8" + token[1:]
    assert check_preview_token(forged, secret="s3cret", now=1030) is None
    for junk in (None, 7, "7", "a.b.c", {"draft": 7}):
        assert check_preview_token(junk, secret="s3cret", now=1030) is None
    assert check_preview_token(token, secret="", now=1030) is None  # previews off without a secret
    with pytest.raises(ValueError):
        preview_token(7, secret="")


def test_an_empty_question_text_cannot_be_published(flows):
    qualification, messages = draft()
    messages["questions"]["budget"]["why"]["en"] = "   "
    with pytest.raises(FlowInvalid) as invalid:
        flows.publish(qualification, messages, by="marta@nubilo.es")
    assert invalid.value.problems == [{"field": "messages.questions.budget.why.en", "message": "the text is empty"}]


# -- the knowledge (answers to visitors' questions) is part of each version ---------------------

TRIAL_ES = "Sí: 30 días gratis, sin tarjeta, con todas las funciones."


def _with_trial_answer(data: dict, text: str) -> dict:
    data = copy.deepcopy(data)
    entry = next(e for e in data["entries"] if e["id"] == "trial_free")
    entry["answer"]["es"] = text
    return data


def test_an_answer_published_with_the_flow_reaches_new_chats_and_older_ones_keep_theirs(flows):
    shipped = knowledge.answer("¿tenéis prueba gratuita?", "es", kb=flows.current().knowledge)
    assert shipped.known and shipped.entry_id == "trial_free" and shipped.text != TRIAL_ES
    qualification, messages = draft()
    flows.publish(
        qualification,
        messages,
        by="marta@nubilo.es",
        knowledge=_with_trial_answer(knowledge_file_content(), TRIAL_ES),
    )
    assert flows.history()[0]["changes"] == ["knowledge.entries.trial_free.answer.es"]
    assert knowledge.answer("¿tenéis prueba gratuita?", "es", kb=flows.get(2).knowledge).text == TRIAL_ES
    assert knowledge.answer("¿tenéis prueba gratuita?", "es", kb=flows.get(1).knowledge).text == shipped.text
    # Publishing the texts again without knowledge keeps version 2's answers.
    messages["questions"]["budget"]["ask"]["es"] = "¿Qué presupuesto tenéis pensado?"
    flows.publish(qualification, messages, by="marta@nubilo.es")
    assert knowledge.answer("¿tenéis prueba gratuita?", "es", kb=flows.get(3).knowledge).text == TRIAL_ES
    # Restoring version 1 brings its answer back.
    flows.restore(1, by="marta@nubilo.es")
    assert knowledge.answer("¿tenéis prueba gratuita?", "es", kb=flows.get(4).knowledge).text == shipped.text


def _trial_index() -> int:
    return next(i for i, e in enumerate(knowledge_file_content()["entries"]) if e["id"] == "trial_free")


def test_broken_knowledge_is_not_published_and_the_errors_name_the_fields(flows):
    data = _with_trial_answer(knowledge_file_content(), "   ")
    data["threshold"] = 3
    with pytest.raises(FlowInvalid) as invalid:
        flows.publish(*draft(), by="marta@nubilo.es", knowledge=data)
    fields = {p["field"] for p in invalid.value.problems}
    assert fields == {f"knowledge.entries[{_trial_index()}].answer.es", "knowledge.threshold"}
    assert flows.current().version == 1


def test_a_version_from_before_the_knowledge_was_stored_reads_the_shipped_file(flows, store):
    flows.current()
    with store.engine.begin() as conn:
        conn.execute(FlowVersion.__table__.update().values(knowledge=None))
    fresh = FlowStore(store.engine, refresh_seconds=0)
    assert fresh.get(1).knowledge.entry("trial_free").answer.es == knowledge.knowledge().entry("trial_free").answer.es
    assert fresh.knowledge_content(1) == knowledge_file_content()


def test_a_draft_carries_its_own_knowledge_into_previews_and_the_published_version(flows):
    drafts = Drafts(flows)
    draft_id, problems = drafts.save(*draft(), by="marta@nubilo.es")
    assert problems == [] and drafts.get(draft_id)["knowledge"] == knowledge_file_content()
    edited = _with_trial_answer(knowledge_file_content(), TRIAL_ES)
    drafts.save(*draft(), by="marta@nubilo.es", draft_id=draft_id, knowledge=edited)
    preview = drafts.flow(draft_id)
    assert preview.draft_id == draft_id
    assert knowledge.answer("free trial?", "es", kb=preview.knowledge).text == TRIAL_ES
    assert knowledge.answer("free trial?", "es", kb=flows.current().knowledge).text != TRIAL_ES
    published = drafts.publish(draft_id, by="marta@nubilo.es")
    assert knowledge.answer("free trial?", "es", kb=published.knowledge).text == TRIAL_ES


def test_an_exported_folder_publishes_its_knowledge_and_one_without_keeps_the_current(flows, tmp_path):
    folder = tmp_path / "draft"
    flows.export(flows.current().version, folder)
    assert load_draft_knowledge(folder) == knowledge_file_content()
    text = (folder / "knowledge.yml").read_text(encoding="utf-8")
    (folder / "knowledge.yml").write_text(text.replace("threshold: 0.4", "threshold: 0.45"), encoding="utf-8")
    flow = flows.publish(*load_draft(folder), by="marta", knowledge=load_draft_knowledge(folder))
    assert flow.knowledge.threshold == 0.45
    (folder / "knowledge.yml").unlink()
    assert load_draft_knowledge(folder) is None
