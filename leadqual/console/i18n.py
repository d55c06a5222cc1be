"""Every string the console shows, in Spanish and English.

The language is the user's saved choice, else the browser's Accept-Language, else Spanish (the
sales team's first language). Templates call `t("key")`; a key missing in one language is a test
failure (tests/test_console_auth.py), never an English word on a Spanish page.
"""

from __future__ import annotations

LANGUAGES = ("es", "en")
DEFAULT = "es"

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"es": "Consola SDR", "en": "SDR console"},
    "sign_in": {"es": "Entrar", "en": "Sign in"},
    "sign_out": {"es": "Salir", "en": "Sign out"},
    "email": {"es": "Email", "en": "Email"},
    "password": {"es": "Contraseña", "en": "Password"},
    "bad_credentials": {"es": "Email o contraseña incorrectos.", "en": "Wrong email or password."},
    "locked": {
        "es": "Demasiados intentos fallidos: la cuenta está bloqueada unos minutos.",
        "en": "Too many failed attempts: the account is locked for a few minutes.",
    },
    "disabled": {"es": "Esta cuenta está desactivada.", "en": "This account is disabled."},
    "too_many_attempts": {
        "es": "Demasiados intentos desde esta dirección; espera unos minutos.",
        "en": "Too many attempts from this address; wait a few minutes.",
    },
    "csrf_failed": {
        "es": "El formulario caducó o no es de esta consola. Vuelve a cargar la página.",
        "en": "The form expired or did not come from this console. Reload the page.",
    },
    "forbidden": {"es": "No tienes permiso para ver esto.", "en": "You are not allowed to see this."},
    "not_found": {"es": "No encontrado.", "en": "Not found."},
    "leads": {"es": "Leads", "en": "Leads"},
    "users": {"es": "Usuarios", "en": "Users"},
    "dead_letters": {"es": "Envíos fallidos", "en": "Dead letters"},
    "crm_hubspot": {"es": "HubSpot", "en": "HubSpot"},
    "crm_salesforce": {"es": "Salesforce", "en": "Salesforce"},
    "crm_status_synced": {"es": "Sincronizado", "en": "Synced"},
    "crm_status_pending": {"es": "Pendiente", "en": "Pending"},
    "crm_status_failed": {"es": "Falló", "en": "Failed"},
    "crm_send_again": {"es": "Enviar otra vez", "en": "Send again"},
    "crm_resent": {"es": "Se enviará otra vez al CRM.", "en": "It will be sent to the CRM again."},
    "language": {"es": "Idioma", "en": "Language"},
    "stage": {"es": "Etapa", "en": "Stage"},
    "grade": {"es": "Grado", "en": "Grade"},
    "owner": {"es": "Responsable", "en": "Owner"},
    "unassigned": {"es": "Sin asignar", "en": "Unassigned"},
    "created_from": {"es": "Creado desde", "en": "Created from"},
    "created_to": {"es": "hasta", "en": "to"},
    "search": {"es": "Buscar email o empresa", "en": "Search email or company"},
    "filter": {"es": "Filtrar", "en": "Filter"},
    "clear": {"es": "Quitar filtros", "en": "Clear filters"},
    "all": {"es": "Todas", "en": "All"},
    "export_csv": {"es": "Exportar CSV", "en": "Export CSV"},
    "total": {"es": "Total", "en": "Total"},
    "fit": {"es": "Perfil", "en": "Fit"},
    "behaviour": {"es": "Comportamiento", "en": "Behaviour"},
    "name": {"es": "Nombre", "en": "Name"},
    "company": {"es": "Empresa", "en": "Company"},
    "created": {"es": "Creado", "en": "Created"},
    "new": {"es": "Nuevo", "en": "New"},
    "new_hint": {"es": "nuevo desde tu última visita", "en": "new since your last visit"},
    "count": {"es": "{total} leads", "en": "{total} leads"},
    "no_leads": {"es": "Ningún lead coincide con los filtros.", "en": "No lead matches the filters."},
    "next": {"es": "Siguientes →", "en": "Next →"},
    "previous": {"es": "← Anteriores", "en": "← Previous"},
    # -- the list's views (queries.VIEWS) --
    "view_inbox": {"es": "Bandeja de entrada", "en": "Inbox"},
    "view_mine": {"es": "Míos", "en": "Mine"},
    "view_score": {"es": "Por puntuación", "en": "By score"},
    "inbox_hint": {
        "es": "Primero lo que te espera: visitantes esperando en un chat en vivo, y de tus leads y los que no tienen"
        " responsable, los nuevos desde tu última visita y los listos para ventas sin aceptar. Después, por grado"
        " (A1 primero) y puntuación.",
        "en": "What waits for you first: visitors waiting in a live chat, then, of your leads and those nobody owns,"
        " the ones new since your last visit and the sales-ready ones nobody has accepted. Then by grade (A1 first)"
        " and score.",
    },
    "score_hint": {"es": "La puntuación total más alta primero.", "en": "Highest total score first."},
    "badge_live_waiting": {"es": "espera en el chat", "en": "waiting in chat"},
    "bad_filter": {"es": "Filtro no válido ({field}): {value}", "en": "Invalid filter ({field}): {value}"},
    "sales_ready": {"es": "listo para ventas", "en": "sales-ready"},
    "anonymous": {"es": "(anónimo)", "en": "(anonymous)"},
    "why_score": {"es": "Por qué esta puntuación", "en": "Why this score"},
    "rule": {"es": "Regla", "en": "Rule"},
    "source": {"es": "Origen", "en": "Source"},
    "points": {"es": "Puntos", "en": "Points"},
    "when": {"es": "Cuándo", "en": "When"},
    "reason": {"es": "Motivo", "en": "Reason"},
    "bant": {"es": "BANT", "en": "BANT"},
    "question": {"es": "Pregunta", "en": "Question"},
    "as_written": {"es": "Lo que escribió", "en": "As written"},
    "parsed": {"es": "Entendido", "en": "Parsed"},
    "confidence": {"es": "Confianza", "en": "Confidence"},
    "qualifies": {"es": "Cumple", "en": "Qualifies"},
    "budget": {"es": "Presupuesto", "en": "Budget"},
    "authority": {"es": "Autoridad", "en": "Authority"},
    "need": {"es": "Necesidad", "en": "Need"},
    "timing": {"es": "Plazo", "en": "Timing"},
    "skipped": {"es": "no contestó", "en": "skipped"},
    "button": {"es": "botón", "en": "button"},
    "no_answer": {"es": "sin respuesta", "en": "no answer"},
    "yes": {"es": "sí", "en": "yes"},
    "no": {"es": "no", "en": "no"},
    "unknown": {"es": "no sabe", "en": "unknown"},
    "none_budget": {"es": "sin presupuesto", "en": "no budget"},
    "no_rush": {"es": "sin prisa", "en": "no rush"},
    "months": {"es": "{months} meses", "en": "{months} months"},
    "timeline": {"es": "Actividad", "en": "Behaviour timeline"},
    "event": {"es": "Evento", "en": "Event"},
    "no_events": {"es": "Sin actividad registrada.", "en": "No activity recorded."},
    "history": {"es": "Historial", "en": "History"},
    "actor": {"es": "Quién", "en": "Who"},
    "move": {"es": "Cambio", "en": "Change"},
    "note": {"es": "Nota", "en": "Note"},
    "notes": {"es": "Notas", "en": "Notes"},
    "add_note": {"es": "Añadir nota", "en": "Add note"},
    "confirm_identity": {"es": "Confirmar que es la misma persona", "en": "Confirm it is the same person"},
    "unverified_claim": {
        "es": "Chat sin verificar: dio el email {email}, que ya es de otro lead. Sus respuestas se guardan aparte "
        "hasta que alguien confirme que es la misma persona; nada del otro lead se le ha mostrado.",
        "en": "Unverified chat: it gave the email {email}, which belongs to another lead. Its answers are kept apart "
        "until someone confirms it is the same person; nothing of the other lead was shown to it.",
    },
    "claimed_lead": {"es": "Ver el lead de ese email", "en": "See that email's lead"},
    "reassigned": {"es": "Reasignado", "en": "Reassigned"},
    "took_over": {"es": "Tomó el chat", "en": "Took over the chat"},
    "transcripts": {"es": "Conversaciones", "en": "Transcripts"},
    "conversation": {"es": "Conversación", "en": "Conversation"},
    "no_transcripts": {"es": "Sin conversaciones.", "en": "No conversations."},
    "sender_visitor": {"es": "Visitante", "en": "Visitor"},
    "sender_bot": {"es": "Bot", "en": "Bot"},
    "sender_sdr": {"es": "SDR", "en": "SDR"},
    "decide": {"es": "Decidir", "en": "Decide"},
    "accept": {"es": "Aceptar (SAL)", "en": "Accept (SAL)"},
    "qualify": {"es": "Cualificar (SQL)", "en": "Qualify (SQL)"},
    "convert": {"es": "Convertir en oportunidad", "en": "Convert to opportunity"},
    "reject": {"es": "Rechazar", "en": "Reject"},
    "recycle": {"es": "Reciclar (nutrir)", "en": "Recycle (nurture)"},
    "reassign": {"es": "Reasignar", "en": "Reassign"},
    "choose_reason": {"es": "Elige un motivo", "en": "Choose a reason"},
    "optional_note": {"es": "Nota (opcional)", "en": "Note (optional)"},
    "decision_saved": {"es": "Hecho: {what}.", "en": "Done: {what}."},
    # -- refused decisions (decisions.DecisionError codes), the note typed is kept in the form --
    "decision_forbidden": {
        "es": "Solo puedes decidir sobre tus leads o sobre los que no tienen responsable.",
        "en": "You can only decide on your own leads or on leads nobody owns.",
    },
    "decision_illegal_move": {
        "es": "No se ha guardado: el lead está en {stage} y desde ahí no se puede «{decision}». Elige una de"
        " las opciones que ofrece ahora.",
        "en": "Not saved: the lead is at {stage}, and from there it cannot be \u201c{decision}\u201d. Pick one of"
        " the options it offers now.",
    },
    "decision_already_accepted": {
        "es": "Este lead ya estaba aceptado: no se ha cambiado nada.",
        "en": "This lead was already accepted: nothing was changed.",
    },
    "decision_reason_required": {
        "es": "Elige un motivo para «{decision}».",
        "en": "Choose a reason for \u201c{decision}\u201d.",
    },
    "decision_unknown_reason": {
        "es": "Ese motivo no vale para «{decision}»: elige uno de la lista.",
        "en": "That reason does not apply to \u201c{decision}\u201d: choose one from the list.",
    },
    "decision_unknown_decision": {
        "es": "Esa acción no existe. Vuelve a cargar la página.",
        "en": "There is no such action. Reload the page.",
    },
    "decision_unknown_sdr": {
        "es": "Ese SDR no está en la configuración del equipo (handoff.sdrs).",
        "en": "That SDR is not in the team's configuration (handoff.sdrs).",
    },
    "decision_same_owner": {"es": "El lead ya es de {name}.", "en": "The lead already belongs to {name}."},
    "decision_empty_note": {"es": "La nota está vacía.", "en": "The note is empty."},
    "decision_no_claim": {
        "es": "Este lead no tiene ningún email sin verificar que confirmar.",
        "en": "This lead has no unverified email to confirm.",
    },
    "decision_actor_id_required": {
        "es": "Tu usuario no tiene un id para el historial. Avisa a un admin.",
        "en": "Your user has no id for the history. Tell an admin.",
    },
    "decision_failed": {
        "es": "No se ha podido guardar la decisión. Vuelve a cargar la página e inténtalo de nuevo.",
        "en": "The decision could not be saved. Reload the page and try again.",
    },
    "reopen": {"es": "Reabrir (a nutrir)", "en": "Re-open (nurture)"},
    "accept_sql": {"es": "Aceptar (sigue en SQL)", "en": "Accept (stays SQL)"},
    "accept_sql_hint": {
        "es": "El chat ya lo cualificó como SQL: al aceptarlo sigue en SQL y queda en el historial.",
        "en": "The chat already qualified it as SQL: accepting it keeps it at SQL and records it in the history.",
    },
    "claim_hint": {
        "es": "No tiene responsable: al aceptarlo o tomar su chat pasa a ser tuyo.",
        "en": "Nobody owns it: accepting it or taking over its chat makes it yours.",
    },
    "awaiting_acceptance": {"es": "sin aceptar", "en": "not accepted yet"},
    "accepted_as_is": {"es": "Aceptado por ventas (sigue en {stage})", "en": "Accepted by sales (stays {stage})"},
    "claimed": {"es": "Pasa a ser suyo", "en": "Took it on"},
    "claimed_by_accept": {"es": "al aceptarlo", "en": "on accepting it"},
    "claimed_by_take_over": {"es": "al tomar su chat", "en": "on taking over its chat"},
    "note_kept_below": {
        "es": "Tu nota no se ha perdido: está en «Notas», para guardarla desde ahí.",
        "en": "Your note is not lost: it is under \u201cNotes\u201d, to save it from there.",
    },
    "read_only": {
        "es": "Solo lectura: este lead es de otra persona.",
        "en": "Read only: this lead belongs to someone else.",
    },
    "contact": {"es": "Contacto", "en": "Contact"},
    "assigned_by": {"es": "asignado por", "en": "assigned by"},
    # How the lead got its owner (routing's rule: handoff.owner / rules.<id> / round_robin / fallback_queue).
    "assigned_how_owner": {"es": "su responsable de antes", "en": "their earlier owner"},
    "assigned_how_rules": {"es": "asignado por la regla «{rule}»", "en": "assigned by the rule “{rule}”"},
    "assigned_how_round_robin": {"es": "asignado por turno", "en": "assigned in turn"},
    "assigned_how_fallback_queue": {
        "es": "en la cola: no había nadie disponible",
        "en": "queued: nobody was available",
    },
    "assigned_how_other": {"es": "asignado", "en": "assigned"},
    # Who moved a lead's stage, when it was not a person.
    "actor_bot": {"es": "el asistente", "en": "the assistant"},
    "actor_score": {"es": "la puntuación", "en": "the score"},
    "actor_rule": {"es": "una regla", "en": "a rule"},
    "actor_system": {"es": "el sistema", "en": "the system"},
    "live_chat": {"es": "Chat en vivo", "en": "Live chat"},
    "take_over": {"es": "Tomar el chat", "en": "Take over the chat"},
    "hand_back": {"es": "Devolver al bot", "en": "Hand back to the bot"},
    "send": {"es": "Enviar", "en": "Send"},
    "waiting_person": {"es": "El visitante pide hablar con una persona", "en": "The visitor asked for a person"},
    "live_chats": {"es": "Chats en vivo", "en": "Live chats"},
    "live_waiting_count": {
        "es": "{count} visitantes esperan a una persona",
        "en": "{count} visitors waiting for a person",
    },
    "waiting_list": {"es": "Esperan a una persona", "en": "Waiting for a person"},
    "active_list": {"es": "Chats tomados por un SDR", "en": "Taken over by an SDR"},
    "no_waiting": {"es": "Nadie espera ahora mismo.", "en": "Nobody is waiting right now."},
    "no_active": {"es": "Ningún SDR está en un chat.", "en": "No SDR is in a chat."},
    "waiting_for": {"es": "Esperando", "en": "Waiting"},
    "requested_at": {"es": "Pedido", "en": "Asked"},
    "in_chat": {"es": "En el chat", "en": "In the chat"},
    "since": {"es": "Desde hace", "en": "For"},
    "open_chat": {"es": "Abrir", "en": "Open"},
    "live_status_none": {
        "es": "Nadie ha tomado este chat: contesta el bot.",
        "en": "Nobody has taken this chat over: the bot is answering.",
    },
    "live_status_requested": {
        "es": "El visitante pidió hablar con una persona hace {ago}.",
        "en": "The visitor asked for a person {ago} ago.",
    },
    "live_status_active": {
        "es": "{name} está en el chat: el bot calla.",
        "en": "{name} is in the chat: the bot is silent.",
    },
    "live_status_ended": {
        "es": "{by} devolvió el chat al bot el {at}.",
        "en": "{by} handed the chat back to the bot on {at}.",
    },
    "status_requested": {"es": "pide una persona", "en": "asked for a person"},
    "status_active": {"es": "con {name}", "en": "with {name}"},
    "take_over_latest": {"es": "Tomar su última conversación", "en": "Take over their latest conversation"},
    "no_live_chat": {"es": "Ningún chat abierto.", "en": "No open chat."},
    "message": {"es": "Mensaje", "en": "Message"},
    "handed_back": {"es": "Devolvió el chat al bot", "en": "Handed the chat back to the bot"},
    "live_done_took_over": {
        "es": "Estás en el chat: el bot calla hasta que lo devuelvas.",
        "en": "You are in the chat: the bot is silent until you hand it back.",
    },
    "live_done_sent": {"es": "Mensaje enviado.", "en": "Message sent."},
    "live_composer_closed": {
        "es": "Solo quien está en el chat puede escribir.",
        "en": "Only whoever is in the chat can write.",
    },
    "live_done_handed_back": {"es": "Chat devuelto al bot.", "en": "Chat handed back to the bot."},
    "live_no_lead": {"es": "Visitante sin lead todavía.", "en": "A visitor with no lead yet."},
    "live_no_lines": {"es": "Todavía no hay mensajes.", "en": "No messages yet."},
    "live_no_sdr_id": {
        "es": "Para tomar un chat tu usuario necesita un id de SDR (pídeselo a un admin).",
        "en": "To take over a chat your user needs an SDR id (ask an admin).",
    },
    "live_admin_hint": {
        "es": "Como admin sin id de SDR puedes devolver el chat al bot, pero no hablar en él.",
        "en": "As an admin without an SDR id you can hand the chat back, but not talk in it.",
    },
    "reload": {"es": "Recargar", "en": "Reload"},
    "rasa_down": {
        "es": "No se puede contactar con el chat (Rasa): se muestra la conversación guardada, puede que falten"
        " los últimos mensajes.",
        "en": "The chat (Rasa) cannot be reached: this is the stored transcript; the latest messages may be missing.",
    },
    "rasa_token_banner": {
        "es": "Rasa rechazó el token de la API (RASA_AUTH_TOKEN): se muestra la conversación guardada.",
        "en": "Rasa refused the API token (RASA_AUTH_TOKEN): this is the stored transcript.",
    },
    "takeover_taken": {
        "es": "Otro SDR ya está en este chat.",
        "en": "Another SDR is already in this chat.",
    },
    "takeover_not_yours": {
        "es": "Otro SDR está en este chat: solo él puede escribir o devolverlo.",
        "en": "Another SDR is in this chat: only they can write in it or hand it back.",
    },
    "takeover_not_taken_over": {
        "es": "Nadie ha tomado este chat: tómalo primero.",
        "en": "Nobody has taken this chat over: take it over first.",
    },
    "takeover_empty": {"es": "El mensaje está vacío.", "en": "The message is empty."},
    "takeover_too_long": {
        "es": "El mensaje es demasiado largo (máximo 4000 caracteres).",
        "en": "The message is too long (4000 characters at most).",
    },
    "takeover_no_sdr_id": {
        "es": "Tu usuario no tiene id de SDR: no puede tomar chats ni escribir en ellos. Pídeselo a un admin.",
        "en": "Your user has no SDR id: it cannot take over or write in chats. Ask an admin.",
    },
    "takeover_admin_no_sdr_id": {
        "es": "Como admin sin id de SDR puedes devolver un chat al bot, pero no tomarlo ni escribir en él.",
        "en": "As an admin without an SDR id you can hand a chat back, but not take it over or write in it.",
    },
    "takeover_unknown_sdr": {
        "es": "Tu id de SDR no está en la configuración (handoff.sdrs). Avisa a un admin.",
        "en": "Your SDR id is not in the config (handoff.sdrs). Tell an admin.",
    },
    "takeover_unknown_conversation": {
        "es": "Esa conversación no existe.",
        "en": "There is no such conversation.",
    },
    "takeover_rasa_unreachable": {
        "es": "No se puede contactar con el chat (Rasa). No se ha hecho nada; inténtalo de nuevo en un momento.",
        "en": "The chat (Rasa) cannot be reached. Nothing was done; try again in a moment.",
    },
    "takeover_rasa_token": {
        "es": "Rasa rechazó el token de la API (RASA_AUTH_TOKEN). No se ha hecho nada.",
        "en": "Rasa refused the API token (RASA_AUTH_TOKEN). Nothing was done.",
    },
    "takeover_rasa_error": {
        "es": "Rasa devolvió un error. No se ha hecho nada; inténtalo de nuevo.",
        "en": "Rasa answered with an error. Nothing was done; try again.",
    },
    "role": {"es": "Rol", "en": "Role"},
    "sdr_id": {"es": "Id de SDR", "en": "SDR id"},
    "status": {"es": "Estado", "en": "Status"},
    "active": {"es": "activo", "en": "active"},
    "disabled_user": {"es": "desactivado", "en": "disabled"},
    "create_user": {"es": "Crear usuario", "en": "Create user"},
    "disable": {"es": "Desactivar", "en": "Disable"},
    "enable": {"es": "Activar", "en": "Enable"},
    "change_role": {"es": "Cambiar rol", "en": "Change role"},
    "api_token": {"es": "Token de API", "en": "API token"},
    "new_api_token": {"es": "Nuevo token de API", "en": "New API token"},
    "token_once": {
        "es": "Token de API de {email} (se muestra solo esta vez): {token}",
        "en": "API token for {email} (shown only this once): {token}",
    },
    "last_login": {"es": "Última entrada", "en": "Last sign-in"},
    "kind": {"es": "Tipo", "en": "Kind"},
    "destination": {"es": "Destino", "en": "Destination"},
    "attempts": {"es": "Intentos", "en": "Attempts"},
    "last_error": {"es": "Último error", "en": "Last error"},
    "retry": {"es": "Reintentar", "en": "Retry"},
    "retried": {"es": "Mensaje {id} vuelto a la cola.", "en": "Message {id} queued again."},
    "no_dead_letters": {"es": "No hay envíos fallidos.", "en": "No dead letters."},
    "dead_letters_hint": {
        "es": "Mensajes al CRM o a la herramienta de nurturing que no se pudieron entregar.",
        "en": "Messages to the CRM or the nurture tool that could not be delivered.",
    },
    "error": {"es": "Error", "en": "Error"},
    "score": {"es": "Puntuación", "en": "Score"},
    "stage_lead": {"es": "Lead", "en": "Lead"},
    "stage_mql": {"es": "MQL", "en": "MQL"},
    "stage_sal": {"es": "SAL", "en": "SAL"},
    "stage_sql": {"es": "SQL", "en": "SQL"},
    "stage_opportunity": {"es": "Oportunidad", "en": "Opportunity"},
    "stage_disqualified": {"es": "Descartado", "en": "Disqualified"},
    # -- marketing: the question flow (flow_editor.py) and analytics (analytics_pages.py) --
    "flow": {"es": "Flujo de preguntas", "en": "Question flow"},
    "analytics": {"es": "Analítica", "en": "Analytics"},
    "flow_intro": {
        "es": "Cada versión publicada guarda quién, cuándo y qué cambió. Las conversaciones nuevas usan la última"
        " en segundos; las que están en curso terminan con la suya.",
        "en": "Each published version records who, when and what changed. New conversations use the newest one"
        " within seconds; conversations in progress finish on theirs.",
    },
    "flow_drafts": {"es": "Borradores", "en": "Drafts"},
    "flow_draft": {"es": "Borrador", "en": "Draft"},
    "flow_new_draft": {"es": "Nuevo borrador (desde la v{version})", "en": "New draft (from v{version})"},
    "flow_draft_from_this": {"es": "Nuevo borrador desde esta versión", "en": "New draft from this version"},
    "flow_no_drafts": {"es": "No hay borradores.", "en": "No drafts."},
    "flow_based_on": {"es": "Basado en", "en": "Based on"},
    "flow_updated": {"es": "Guardado", "en": "Saved"},
    "flow_outdated": {"es": "hay una versión más nueva", "en": "a newer version exists"},
    "flow_outdated_long": {
        "es": "Este borrador parte de la v{version}, pero la actual es la v{current}: al publicarlo se perderían"
        " los cambios hechos entre medias. Revisa el ensayo antes.",
        "en": "This draft starts from v{version} but the current one is v{current}: publishing it would undo"
        " what changed in between. Check the dry run first.",
    },
    "flow_edit": {"es": "Editar", "en": "Edit"},
    "flow_discard": {"es": "Descartar", "en": "Discard"},
    "flow_discarded": {"es": "Borrador #{id} descartado.", "en": "Draft #{id} discarded."},
    "flow_versions": {"es": "Versiones publicadas", "en": "Published versions"},
    "flow_version": {"es": "Versión", "en": "Version"},
    "flow_current": {"es": "actual", "en": "current"},
    "flow_changes": {"es": "Qué cambió", "en": "What changed"},
    "flow_n_changes": {"es": "{count} cambios", "en": "{count} changes"},
    "flow_restore": {"es": "Restaurar", "en": "Restore"},
    "flow_restored": {
        "es": "Restaurada como versión {version}: las conversaciones nuevas la usan en segundos.",
        "en": "Restored as version {version}: new conversations use it within seconds.",
    },
    "flow_restored_from": {"es": "restaurada de la v{version}", "en": "restored from v{version}"},
    "flow_restore_invalid": {
        "es": "Esa versión ya no pasa la validación actual: no se ha restaurado.",
        "en": "That version no longer passes today's validation: it was not restored.",
    },
    "flow_published": {
        "es": "Publicada la versión {version}: las conversaciones nuevas la usan en segundos.",
        "en": "Version {version} published: new conversations use it within seconds.",
    },
    "flow_draft_of": {
        "es": "Borrador #{id} · desde la v{version} · {who}",
        "en": "Draft #{id} · from v{version} · {who}",
    },
    "flow_editor": {"es": "Editor", "en": "Editor"},
    "flow_advanced": {"es": "Avanzado (YAML)", "en": "Advanced (YAML)"},
    "flow_advanced_hint": {
        "es": "El borrador entero, como los ficheros qualification.yml y messages.yml. Todo se valida al guardar.",
        "en": "The whole draft, as the files qualification.yml, messages.yml and knowledge.yml. Everything is"
        " validated on save.",
    },
    "flow_not_saved": {
        "es": "No se ha guardado: el YAML no se puede leer.",
        "en": "Not saved: the YAML cannot be read.",
    },
    "analytics_unanswered": {"es": "Preguntas sin respuesta", "en": "Unanswered questions"},
    "analytics_unanswered_hint": {
        "es": "Lo que preguntaron los visitantes y el chat no supo responder (se ofreció una persona), por semana y"
        " idioma: lo siguiente que añadir en Flujo de preguntas → Respuestas. Correos y teléfonos aparecen ocultos.",
        "en": "What visitors asked that the chat could not answer (a person was offered), by week and language:"
        " what to add next under Question flow → Answers. Emails and phone numbers are masked.",
    },
    "analytics_iso_week": {"es": "Semana", "en": "Week"},
    "analytics_unanswered_total": {"es": "Sin respuesta", "en": "Unanswered"},
    "analytics_unanswered_top": {"es": "Las más repetidas", "en": "Most asked"},
    "analytics_unanswered_none": {
        "es": "Ninguna en las últimas 8 semanas.",
        "en": "None in the last 8 weeks.",
    },
    "flow_knowledge": {"es": "Respuestas", "en": "Answers"},
    "flow_knowledge_hint": {
        "es": "Lo que el chat responde cuando un visitante pregunta por el producto, antes, durante o después de"
        " las preguntas. Se publica con el borrador: las conversaciones en curso siguen con sus respuestas.",
        "en": "What the chat answers when a visitor asks about the product, before, during or after the"
        " questions. Published with the draft: conversations under way keep their own answers.",
    },
    "knowledge_general": {"es": "General", "en": "General"},
    "knowledge_threshold": {"es": "Umbral de coincidencia (0-1)", "en": "Match threshold (0-1)"},
    "knowledge_threshold_hint": {
        "es": "Por debajo, el chat dice que no lo sabe y ofrece una persona. Más alto: responde menos y se equivoca"
        " menos.",
        "en": "Below it, the chat says it does not know and offers a person. Higher: it answers less and errs less.",
    },
    "knowledge_price_band": {
        "es": "Banda de precios (a quien responde «depende del precio»)",
        "en": "Price band (for a visitor who says \u201cit depends on the price\u201d)",
    },
    "knowledge_fallback": {"es": "Cuando no hay respuesta", "en": "When there is no answer"},
    "knowledge_continue_prompt": {
        "es": "Tras responder en mitad de las preguntas",
        "en": "After an answer in the middle of the questions",
    },
    "knowledge_offer_questions": {
        "es": "Tras responder antes de las preguntas (ofrece empezarlas)",
        "en": "After an answer before the questions (offers to start them)",
    },
    "knowledge_id": {"es": "Identificador", "en": "Id"},
    "knowledge_topic": {"es": "Tema", "en": "Topic"},
    "knowledge_delete": {"es": "Borrar esta respuesta", "en": "Delete this answer"},
    "knowledge_questions": {"es": "Preguntas de ejemplo", "en": "Example questions"},
    "knowledge_questions_hint": {
        "es": "Una por línea: formas variadas de preguntarlo (el chat entiende también otras y las erratas).",
        "en": "One per line: varied ways of asking it (the chat also understands others, and typos).",
    },
    "knowledge_keywords": {"es": "Palabras clave (opcional, una por línea)", "en": "Keywords (optional, one per line)"},
    "knowledge_answer": {"es": "Respuesta", "en": "Answer"},
    "knowledge_new_entry": {"es": "Nueva respuesta", "en": "New answer"},
    "topic_pricing": {"es": "Precios", "en": "Pricing"},
    "topic_trial": {"es": "Prueba", "en": "Trial"},
    "topic_integrations": {"es": "Integraciones", "en": "Integrations"},
    "topic_security": {"es": "Seguridad y RGPD", "en": "Security and GDPR"},
    "topic_support": {"es": "Soporte", "en": "Support"},
    "topic_onboarding": {"es": "Puesta en marcha", "en": "Onboarding"},
    "topic_company": {"es": "Empresa", "en": "Company"},
    "flow_dry_run": {"es": "Ensayo", "en": "Dry run"},
    "flow_dry_run_hint": {
        "es": "Los visitantes de ejemplo (config/sample_visitors.yml) puntuados con la versión actual (v{version})"
        " y con este borrador. En amarillo, lo que cambia.",
        "en": "The sample visitors (config/sample_visitors.yml) scored under the current version (v{version})"
        " and under this draft. What changes is highlighted.",
    },
    "flow_dry_run_questions": {"es": "Preguntas de los visitantes", "en": "Visitors' questions"},
    "flow_dry_run_questions_hint": {
        "es": "Las preguntas de ejemplo (questions en config/sample_visitors.yml) con la respuesta de la versión"
        " actual y la de este borrador.",
        "en": "The sample questions (questions in config/sample_visitors.yml) with the current version's answer"
        " and this draft's.",
    },
    "flow_question_asked": {"es": "Pregunta", "en": "Question"},
    "flow_no_answer": {"es": "Sin respuesta: se ofrece una persona", "en": "No answer: a person is offered"},
    "flow_sample": {"es": "Visitante de ejemplo", "en": "Sample visitor"},
    "flow_current_version": {"es": "Actual (v{version})", "en": "Current (v{version})"},
    "flow_this_draft": {"es": "Este borrador", "en": "This draft"},
    "flow_rule_changes": {"es": "Puntos que cambian", "en": "Points that change"},
    "flow_no_change": {"es": "sin cambios", "en": "no change"},
    "flow_answers_read": {"es": "respuestas entendidas", "en": "answers as read"},
    "flow_preview": {"es": "Probar en un chat", "en": "Preview chat"},
    "flow_preview_hint": {
        "es": "Un chat de verdad con este borrador: no crea leads ni estadísticas.",
        "en": "A real chat on this draft: it creates no lead and no statistics.",
    },
    "flow_preview_start": {
        "es": "Escribe el primer mensaje para empezar.",
        "en": "Write the first message to start.",
    },
    "flow_preview_restart": {"es": "Empezar otro chat", "en": "Start another chat"},
    "flow_preview_off": {
        "es": "Las pruebas están desactivadas: falta LEADQUAL_PREVIEW_SECRET (bin/run lo genera).",
        "en": "Previews are off: LEADQUAL_PREVIEW_SECRET is not set (bin/run generates it).",
    },
    "flow_problems": {"es": "{count} problemas", "en": "{count} problems"},
    "flow_fix_first": {
        "es": "Corrige los problemas del borrador antes de probarlo, ensayarlo o publicarlo.",
        "en": "Fix the draft's problems before previewing, dry-running or publishing it.",
    },
    "flow_save": {"es": "Guardar borrador", "en": "Save draft"},
    "flow_save_hint": {
        "es": "Se guarda aunque tenga problemas; no se publica nada.",
        "en": "It is saved even with problems; nothing is published.",
    },
    "flow_saved": {"es": "Borrador guardado; no tiene problemas.", "en": "Draft saved; it has no problems."},
    "flow_saved_invalid": {
        "es": "Borrador guardado, pero tiene problemas: no se puede publicar así.",
        "en": "Draft saved, but it has problems: it cannot be published like this.",
    },
    "flow_publish": {"es": "Publicar", "en": "Publish"},
    "flow_publish_hint": {
        "es": "Antes de publicar, mira el ensayo y prueba el chat:",
        "en": "Before publishing, look at the dry run and try the chat:",
    },
    "flow_note_placeholder": {"es": "qué cambia y por qué", "en": "what changes and why"},
    "flow_publish_invalid": {
        "es": "No se ha publicado: el borrador tiene problemas.",
        "en": "Not published: the draft has problems.",
    },
    "flow_nothing_changed": {
        "es": "No se ha publicado: nada cambia respecto a la versión actual.",
        "en": "Not published: nothing differs from the current version.",
    },
    "flow_questions": {"es": "Preguntas", "en": "Questions"},
    "flow_questions_hint": {
        "es": "Orden (1 = primera), si se pregunta, y sus textos en cada idioma. El email se pregunta siempre.",
        "en": "Order (1 = first), whether it is asked, and its texts per language. The email is always asked.",
    },
    "flow_order": {"es": "Orden", "en": "Order"},
    "flow_asked": {"es": "Se pregunta", "en": "Asked"},
    "flow_email_always": {"es": "siempre", "en": "always"},
    "flow_text_ask": {"es": "Pregunta", "en": "Question"},
    "flow_text_why": {"es": "Por qué lo preguntamos", "en": "Why we ask"},
    "flow_text_reask": {"es": "Al no entenderla", "en": "Re-ask"},
    "flow_variations": {"es": "una variante por línea", "en": "one variation a line"},
    "flow_buttons": {"es": "Botones", "en": "Buttons"},
    "flow_scoring": {"es": "Rangos y puntos", "en": "Ranges and points"},
    "flow_minimum_price": {"es": "Precio mínimo", "en": "Minimum price"},
    "flow_period": {"es": "Periodo", "en": "Period"},
    "period_month": {"es": "al mes", "en": "a month"},
    "period_year": {"es": "al año", "en": "a year"},
    "period_one_off": {"es": "pago único", "en": "one-off"},
    "points_budget_qualifies": {"es": "Llega al mínimo", "en": "Reaches the minimum"},
    "points_budget_below_minimum": {"es": "Por debajo del mínimo", "en": "Below the minimum"},
    "points_budget_no_budget": {"es": "Sin presupuesto", "en": "No budget"},
    "points_budget_unknown": {"es": "No lo sabe", "en": "Unknown"},
    "level_decision_maker": {"es": "Decide", "en": "Decision maker"},
    "level_influencer": {"es": "Influye", "en": "Influencer"},
    "level_user": {"es": "Usuario", "en": "User"},
    "level_none": {"es": "Ninguno", "en": "None"},
    "points_need_match": {"es": "Necesidad que cubrimos", "en": "A need we meet"},
    "points_need_none": {"es": "Sin necesidad concreta", "en": "No specific need"},
    "flow_max_months": {"es": "Hasta (meses)", "en": "Up to (months)"},
    "points_timing_later": {"es": "Sin prisa / más tarde", "en": "No rush / later"},
    "points_timing_unknown": {"es": "No lo sabe", "en": "Unknown"},
    "flow_qualifying_months": {"es": "Cumple hasta (meses)", "en": "Qualifies up to (months)"},
    "flow_thresholds": {"es": "Umbrales de etapa", "en": "Stage thresholds"},
    "flow_nurture_below": {"es": "Nutrir por debajo de", "en": "Nurture below"},
    "flow_mql_min": {"es": "MQL desde", "en": "MQL from"},
    "flow_sql_min": {"es": "SQL desde", "en": "SQL from"},
    "flow_behaviour_rules": {"es": "Reglas de comportamiento", "en": "Behaviour rules"},
    "flow_matches": {"es": "Qué cuenta", "en": "Matches"},
    "flow_cap": {"es": "máx. {max} cada {days} días", "en": "at most {max} per {days} days"},
    "flow_extra_questions": {"es": "Preguntas extra", "en": "Extra questions"},
    "flow_extra_hint": {
        "es": "Hasta tres preguntas propias: se hacen justo después de «después de», solo si se cumplen las"
        " condiciones. La respuesta se guarda en el lead y puede sumar puntos.",
        "en": "Up to three questions of your own: asked right after \u201cafter\u201d, only when the conditions"
        " hold. The answer is stored on the lead and can carry points.",
    },
    "flow_extra": {"es": "Pregunta extra", "en": "Extra question"},
    "flow_add_extra": {"es": "Añadir una pregunta extra", "en": "Add an extra question"},
    "flow_extra_id": {"es": "Id (a-z, 0-9, _)", "en": "Id (a-z, 0-9, _)"},
    "flow_after": {"es": "Después de", "en": "After"},
    "flow_kind_choice": {"es": "opciones", "en": "choice"},
    "flow_kind_text": {"es": "texto libre", "en": "free text"},
    "flow_remove": {"es": "Quitar", "en": "Remove"},
    "flow_when": {"es": "Solo si", "en": "Only when"},
    "flow_when_hint": {
        "es": "(nada marcado = siempre; marcar varias de un grupo = cualquiera de ellas)",
        "en": "(nothing ticked = always; several in a group = any of them)",
    },
    "flow_qualifies": {"es": "Cumplen", "en": "Qualify"},
    "flow_when_other": {
        "es": "Respuestas a otra pregunta extra (id: opción, opción; …)",
        "en": "Answers to an earlier extra question (id: option, option; …)",
    },
    "flow_options": {"es": "Opciones", "en": "Options"},
    "flow_options_hint": {
        "es": "(para «opciones»; las filas vacías se ignoran)",
        "en": "(for \u201cchoice\u201d; empty rows are ignored)",
    },
    "flow_points_if_answered": {"es": "Puntos si contesta (texto libre)", "en": "Points if answered (free text)"},
    # -- the flow editor's sections, problems as sentences, what changed (flow_editor.py) --
    "flow_sections": {"es": "Secciones del borrador", "en": "Sections of the draft"},
    "flow_sections_hint": {
        "es": "Cada sección es una página con su propio formulario: guarda antes de pasar a la siguiente.",
        "en": "Each section is a page with its own form: save before moving to the next one.",
    },
    "flow_sec_overview": {"es": "Resumen", "en": "Overview"},
    "flow_sec_questions": {"es": "Preguntas y textos", "en": "Questions and texts"},
    "flow_sec_questions_hint": {
        "es": "Qué se pregunta, en qué orden, y lo que lee el visitante en cada idioma.",
        "en": "What is asked, in which order, and what the visitor reads in each language.",
    },
    "flow_sec_budget": {"es": "Presupuesto", "en": "Budget"},
    "flow_sec_budget_hint": {
        "es": "El precio mínimo, los puntos de cada respuesta y los botones.",
        "en": "The minimum price, the points of each answer and the buttons.",
    },
    "flow_sec_authority": {"es": "Autoridad", "en": "Authority"},
    "flow_sec_authority_hint": {
        "es": "Los puntos de cada nivel de decisión, cuáles cumplen y los botones.",
        "en": "The points of each level of authority, which ones qualify and the buttons.",
    },
    "flow_sec_need": {"es": "Necesidades", "en": "Needs"},
    "flow_sec_need_hint": {
        "es": "Lo que ofrecemos, con las palabras con que lo reconoce el chat, y sus puntos.",
        "en": "What we offer, with the words the chat recognises it by, and its points.",
    },
    "flow_sec_timing": {"es": "Plazos", "en": "Timing"},
    "flow_sec_timing_hint": {
        "es": "Las ventanas de plazo en meses, sus puntos y los botones.",
        "en": "The timing windows in months, their points and the buttons.",
    },
    "flow_sec_scoring": {"es": "Puntos y etapas", "en": "Points and stages"},
    "flow_sec_scoring_hint": {
        "es": "Los umbrales de etapa, los grados y los puntos de cada comportamiento.",
        "en": "The stage thresholds, the grades and the points of each behaviour.",
    },
    "flow_sec_routing": {"es": "Reparto a comerciales", "en": "Routing"},
    "flow_sec_routing_hint": {
        "es": "Quién recibe cada lead: los comerciales, las reglas y el plazo de contacto.",
        "en": "Who gets each lead: the SDRs, the rules and the contact deadline.",
    },
    "flow_sec_extra": {"es": "Preguntas extra", "en": "Extra questions"},
    "flow_sec_extra_hint": {
        "es": "Hasta tres preguntas propias, con sus condiciones y puntos.",
        "en": "Up to three questions of your own, with their conditions and points.",
    },
    "flow_sec_knowledge": {"es": "Respuestas", "en": "Answers"},
    "flow_sec_knowledge_hint": {
        "es": "Lo que el chat contesta a las preguntas de los visitantes.",
        "en": "What the chat answers to visitors' questions.",
    },
    "flow_sec_advanced": {"es": "Avanzado (YAML)", "en": "Advanced (YAML)"},
    "flow_sec_advanced_hint": {
        "es": "Todo lo demás (respuestas del chat, horarios...), como texto YAML.",
        "en": "Everything else (the chat's responses, business hours...), as YAML text.",
    },
    "flow_n_problems": {"es": "{count} por corregir", "en": "{count} to fix"},
    "flow_one_problem": {"es": "1 problema", "en": "1 problem"},
    "flow_budget_ranges": {"es": "Rangos de los botones", "en": "The buttons' ranges"},
    "flow_budget_ranges_hint": {
        "es": "El importe que representa cada botón, en la moneda y periodo del botón (vacío: sin límite).",
        "en": "The amount each button stands for, in the button's currency and period (blank: no limit).",
    },
    "flow_range_from": {"es": "Desde", "en": "From"},
    "flow_range_to": {"es": "Hasta", "en": "Up to"},
    "err_option_range": {
        "es": "En el botón «{value}», «Desde» es mayor que «Hasta».",
        "en": "In the button “{value}”, “From” is more than “Up to”.",
    },
    "err_option_value": {
        "es": "El valor del botón «{value}» no es válido.",
        "en": "The value of the button “{value}” is not valid.",
    },
    "flow_problems_elsewhere": {
        "es": "Esta sección está bien; quedan {count} problemas en otras:",
        "en": "This section is fine; {count} problems remain in others:",
    },
    "flow_next_section": {"es": "Siguiente: {section}", "en": "Next: {section}"},
    "flow_back_to_overview": {"es": "Volver al resumen", "en": "Back to the overview"},
    "flow_draft_changes": {
        "es": "Qué cambia este borrador respecto a la v{version}",
        "en": "What this draft changes from v{version}",
    },
    "flow_draft_no_changes": {
        "es": "Aún no cambia nada respecto a su versión.",
        "en": "Nothing changed from its version yet.",
    },
    "flow_change_field": {"es": "Campo", "en": "Field"},
    "flow_change_before": {"es": "Antes", "en": "Before"},
    "flow_change_after": {"es": "Después", "en": "After"},
    "flow_change_added": {"es": "(no estaba: añadido)", "en": "(not there: added)"},
    "flow_change_removed": {"es": "(quitado)", "en": "(removed)"},
    "flow_buttons_hint": {
        "es": "El texto de cada botón que ve el visitante.",
        "en": "The text of each button the visitor sees.",
    },
    "flow_qualifying_levels_hint": {
        "es": "Los niveles que cuentan como «cumple» la autoridad.",
        "en": "The levels that count as qualifying on authority.",
    },
    "flow_one_per_line": {"es": "una por línea", "en": "one a line"},
    "flow_windows_hint": {
        "es": "De menos a más meses: una respuesta cae en la primera ventana que la cubre.",
        "en": "From fewest to most months: an answer falls in the first window that covers it.",
    },
    "flow_thresholds_hint": {
        "es": "Puntuación total (encaje + comportamiento); en orden: nutrir ≤ MQL ≤ SQL.",
        "en": "Total score (fit + behaviour); in order: nurture ≤ MQL ≤ SQL.",
    },
    "flow_requires": {"es": "{stage} exige que cumpla:", "en": "{stage} requires qualifying on:"},
    "flow_grades_hint": {
        "es": "La letra es el encaje mínimo (A ≥ B ≥ C); el número, el comportamiento mínimo (1 ≥ 2).",
        "en": "The letter is the minimum fit (A ≥ B ≥ C); the number, the minimum behaviour (1 ≥ 2).",
    },
    "flow_grade_fit": {"es": "Encaje para {grade}", "en": "Fit for {grade}"},
    "flow_grade_engagement": {"es": "Comportamiento para {grade}", "en": "Behaviour for {grade}"},
    "flow_routing_general": {"es": "Contacto", "en": "Contact"},
    "flow_routing_hint": {
        "es": "Se mira cada regla en orden; la primera que encaja y tiene un comercial libre se queda el lead.",
        "en": "Each rule is checked in order; the first that matches and has an SDR available gets the lead.",
    },
    "flow_routing_more": {
        "es": "Horarios, tamaños de empresa y reglas nuevas:",
        "en": "Business hours, company sizes and new rules:",
    },
    "field_amount": {"es": "Importe", "en": "Amount"},
    "field_default_period": {"es": "Periodo si no lo dice", "en": "Period when none is said"},
    "field_currency": {"es": "Moneda", "en": "Currency"},
    "field_exchange_rates": {"es": "Tipos de cambio", "en": "Exchange rates"},
    "field_qualifying_levels": {"es": "Niveles que cumplen", "en": "Qualifying levels"},
    "field_label": {"es": "Etiqueta", "en": "Label"},
    "field_synonyms": {"es": "Sinónimos", "en": "Synonyms"},
    "field_none_label": {"es": "Botón «nada en concreto»", "en": "The “nothing specific” button"},
    "field_needs": {"es": "Necesidades", "en": "Needs"},
    "field_windows": {"es": "Ventanas de plazo", "en": "Timing windows"},
    "field_recycle_after_days": {
        "es": "Reciclar tras días sin actividad (vacío: nunca)",
        "en": "Recycle after days without activity (blank: never)",
    },
    "field_automatic": {"es": "SQL automático", "en": "Automatic SQL"},
    "field_min_score": {"es": "Puntuación mínima", "en": "Minimum score"},
    "field_requires": {"es": "Exige", "en": "Requires"},
    "field_grades": {"es": "Grados", "en": "Grades"},
    "field_fit": {"es": "Encaje", "en": "Fit"},
    "field_engagement": {"es": "Comportamiento", "en": "Behaviour"},
    "field_sla_hours": {"es": "Horas para contactar", "en": "Hours to get in touch"},
    "field_timezone": {"es": "Zona horaria", "en": "Time zone"},
    "field_fallback_queue": {"es": "Cola si no hay nadie", "en": "Queue when nobody is available"},
    "field_business_hours": {"es": "Horario", "en": "Business hours"},
    "field_sdrs": {"es": "Comerciales", "en": "SDRs"},
    "field_name": {"es": "Nombre", "en": "Name"},
    "field_email": {"es": "Email", "en": "Email"},
    "field_languages": {"es": "Idiomas", "en": "Languages"},
    "field_language": {"es": "Idioma", "en": "Language"},
    "field_away": {"es": "Ausente", "en": "Away"},
    "field_capacity": {"es": "Leads nuevos al día (vacío: sin límite)", "en": "New leads a day (blank: no limit)"},
    "field_scheduling_url": {"es": "Enlace para reservar reunión", "en": "Meeting booking link"},
    "field_rules": {"es": "Reglas de reparto", "en": "Routing rules"},
    "field_when": {"es": "Cuándo", "en": "When"},
    "field_need": {"es": "Necesidad", "en": "Need"},
    "field_country": {"es": "Países (códigos ISO, p. ej. ES, MX)", "en": "Countries (ISO codes, e.g. ES, MX)"},
    "field_company_size": {"es": "Tamaño de empresa", "en": "Company size"},
    "field_assign_to": {"es": "Asignar a", "en": "Assign to"},
    "field_id": {"es": "Identificador", "en": "Id"},
    "field_value": {"es": "Valor", "en": "Value"},
    "field_entries": {"es": "Respuestas", "en": "Answers"},
    "err_missing": {"es": "Falta este dato.", "en": "This is required."},
    "err_integer": {"es": "Tiene que ser un número entero.", "en": "It has to be a whole number."},
    "err_integer_typed": {
        "es": "Tiene que ser un número entero, sin decimales ni letras; pone «{value}».",
        "en": "It has to be a whole number, with no decimals or letters; it says “{value}”.",
    },
    "err_number": {"es": "Tiene que ser un número.", "en": "It has to be a number."},
    "err_number_typed": {
        "es": "Tiene que ser un número (con punto para los decimales); pone «{value}».",
        "en": "It has to be a number (with a point for decimals); it says “{value}”.",
    },
    "err_greater_than": {"es": "Tiene que ser mayor que {gt}.", "en": "It has to be more than {gt}."},
    "err_at_least": {"es": "Tiene que ser {ge} o más.", "en": "It has to be {ge} or more."},
    "err_less_than": {"es": "Tiene que ser menor que {lt}.", "en": "It has to be less than {lt}."},
    "err_at_most": {"es": "Tiene que ser {le} o menos.", "en": "It has to be {le} or less."},
    "err_empty": {"es": "No puede quedar vacío.", "en": "It cannot be left empty."},
    "err_too_long": {
        "es": "Es demasiado largo: como mucho {max_length} caracteres.",
        "en": "It is too long: {max_length} characters at most.",
    },
    "err_choice": {"es": "Tiene que ser uno de estos: {expected}.", "en": "It has to be one of: {expected}."},
    "err_too_few": {"es": "Hace falta al menos {min_length}.", "en": "At least {min_length} are needed."},
    "err_too_many": {"es": "Como mucho {max_length}.", "en": "{max_length} at most."},
    "err_unknown_field": {
        "es": "Este campo no existe aquí (¿una errata en el nombre?).",
        "en": "There is no such field here (a typo in the name?).",
    },
    "err_yes_no": {"es": "Tiene que ser sí o no.", "en": "It has to be yes or no."},
    "err_text": {"es": "Tiene que ser un texto.", "en": "It has to be a text."},
    "err_mapping": {
        "es": "Tiene que ser un bloque de campos (clave: valor).",
        "en": "It has to be a block of fields (key: value).",
    },
    "err_list": {"es": "Tiene que ser una lista.", "en": "It has to be a list."},
    "err_invalid": {"es": "Este valor no es válido ({detail}).", "en": "This value is not valid ({detail})."},
    "err_id_pattern": {
        "es": "Solo minúsculas sin acentos, números y guiones bajos, p. ej. team_size.",
        "en": "Only lower-case letters without accents, digits and underscores, e.g. team_size.",
    },
    "err_pattern": {"es": "«{value}» no tiene la forma esperada.", "en": "“{value}” is not in the expected form."},
    "err_no_texts": {
        "es": "Esta pregunta se hace pero no tiene textos.",
        "en": "This question is asked but has no texts.",
    },
    "err_thresholds_order": {
        "es": "Los umbrales tienen que ir en orden: «Nutrir por debajo de» ≤ «MQL desde» ≤ «SQL desde».",
        "en": "The thresholds have to be in order: “Nurture below” ≤ “MQL from” ≤ “SQL from”.",
    },
    "err_windows_order": {
        "es": "Las ventanas de plazo tienen que ir de menos a más meses.",
        "en": "The timing windows have to go from fewest to most months.",
    },
    "err_min_max": {"es": "El mínimo es mayor que el máximo.", "en": "The minimum is more than the maximum."},
    "err_need_ids": {"es": "Dos necesidades tienen el mismo id.", "en": "Two needs have the same id."},
    "err_missing_levels": {"es": "Faltan los puntos de: {value}.", "en": "The points of these are missing: {value}."},
    "err_option_level": {
        "es": "El botón «{value}» apunta a un nivel que no existe.",
        "en": "The button “{value}” points to a level that does not exist.",
    },
    "err_listed_twice": {"es": "«{value}» aparece dos veces.", "en": "“{value}” is listed twice."},
    "err_email_always": {
        "es": "El email se pregunta siempre: no se puede quitar.",
        "en": "The email is always asked: it cannot be taken out.",
    },
    "err_required_not_asked": {
        "es": "La etapa exige que cumpla «{value}», pero esa pregunta no se hace.",
        "en": "The stage requires “{value}” to qualify, but that question is not asked.",
    },
    "err_two_options": {
        "es": "Una pregunta de opciones necesita al menos dos opciones.",
        "en": "A choice question needs at least two options.",
    },
    "err_text_no_options": {
        "es": "Una pregunta de texto libre no lleva opciones.",
        "en": "A free-text question has no options.",
    },
    "err_duplicate_id": {"es": "El id «{value}» ya se usa.", "en": "The id “{value}” is already used."},
    "err_after": {
        "es": "«{value}» no es una pregunta que se haga antes de esta.",
        "en": "“{value}” is not a question asked before this one.",
    },
    "err_unknown_question": {
        "es": "«{value}» no es una pregunta anterior.",
        "en": "“{value}” is not an earlier question.",
    },
    "err_unknown_value": {
        "es": "«{value}» no es una de sus respuestas posibles.",
        "en": "“{value}” is not one of its possible answers.",
    },
    "err_unknown_sdr": {"es": "No hay ningún comercial «{value}».", "en": "There is no SDR “{value}”."},
    "err_https": {
        "es": "Tiene que ser un enlace que empiece por https://.",
        "en": "It has to be a link starting with https://.",
    },
    "err_timezone": {
        "es": "«{value}» no es una zona horaria (p. ej. Europe/Madrid).",
        "en": "“{value}” is not a time zone (e.g. Europe/Madrid).",
    },
    "err_spans_overlap": {"es": "Los tramos de horario se solapan.", "en": "The opening spans overlap."},
    "err_span": {"es": "«{value}» no es un tramo como 09:00-18:00.", "en": "“{value}” is not a span like 09:00-18:00."},
    "err_span_order": {
        "es": "El tramo tiene que empezar antes de acabar, el mismo día.",
        "en": "The span has to start before it ends, on the same day.",
    },
    "err_grades_fit": {
        "es": "Los mínimos de encaje tienen que ir en orden: A ≥ B ≥ C.",
        "en": "The fit minimums have to be in order: A ≥ B ≥ C.",
    },
    "err_grades_engagement": {
        "es": "Los mínimos de comportamiento tienen que ir en orden: 1 ≥ 2.",
        "en": "The behaviour minimums have to be in order: 1 ≥ 2.",
    },
    "err_same_example": {
        "es": "Esta pregunta de ejemplo ya es de la respuesta «{value}».",
        "en": "This example question already belongs to the answer “{value}”.",
    },
    "err_one_link": {"es": "Una respuesta lleva como mucho un enlace.", "en": "An answer has one link at most."},
    "err_link": {
        "es": "El enlace «{value}» tiene que empezar por /, https:// o mailto:.",
        "en": "The link “{value}” has to start with /, https:// or mailto:.",
    },
    "err_base_rate": {
        "es": "El tipo de cambio de la moneda base ({value}) tiene que ser 1.",
        "en": "The exchange rate of the base currency ({value}) has to be 1.",
    },
    "err_positive_rate": {
        "es": "El tipo de cambio de {value} tiene que ser mayor que 0.",
        "en": "The exchange rate of {value} has to be more than 0.",
    },
    "err_country": {
        "es": "Los países van en código ISO de dos letras mayúsculas, p. ej. ES.",
        "en": "Countries go as two-capital-letter ISO codes, e.g. ES.",
    },
    "err_month_day": {"es": "Tiene que ser mes y día, como 04-01.", "en": "It has to be a month and day, like 04-01."},
    "err_yaml": {"es": "El texto YAML no se puede leer: {value}", "en": "The YAML text cannot be read: {value}"},
    # -- analytics: questions as funnel steps (analytics_pages.py) --
    "q_conversations": {"es": "Conversaciones", "en": "Conversations"},
    "q_reached": {"es": "Llegaron", "en": "Reached"},
    "q_reach_rate": {"es": "% llega", "en": "Reach rate"},
    "q_volunteered": {"es": "Contestada sin preguntar", "en": "Answered unasked"},
    "analytics_questions_funnel_chart": {
        "es": "Por pregunta, en el orden del flujo: cuántas conversaciones llegan, contestan y abandonan",
        "en": "Per question, in flow order: how many conversations reach it, answer it and leave there",
    },
    "analytics_questions_explainer": {
        "es": "Las preguntas van en el orden en que las hace el chat (cada pregunta extra tras la suya). Cada"
        " conversación cuenta una vez por pregunta, en la versión e idioma en que empezó. «Llegaron»: las"
        " conversaciones que llegaron a esa pregunta (se hizo, o el visitante la contestó antes de que se"
        " hiciera); su % es sobre las conversaciones que empezaron. Las demás columnas y los porcentajes de"
        " contesta y abandona son sobre las que llegaron: nunca pasan del 100 %. Contestar de nuevo o"
        " corregir una respuesta no suma otra vez.",
        "en": "Questions are in the order the chat asks them (each extra question after its own). Each"
        " conversation counts once per question, in the version and language it started in. “Reached”: the"
        " conversations that got to that question (it was asked, or the visitor answered it before it was);"
        " its % is of the conversations that started. The other columns and the answer and abandon rates are"
        " of those that reached it: never above 100 %. Answering again or correcting an answer does not"
        " count twice.",
    },
    "analytics_not_in_flow": {"es": "ya no está en el flujo", "en": "no longer in the flow"},
    "q_need": {"es": "Necesidad", "en": "Need"},
    "q_timing": {"es": "Plazo", "en": "Timing"},
    "q_budget": {"es": "Presupuesto", "en": "Budget"},
    "q_authority": {"es": "Autoridad", "en": "Authority"},
    "q_name": {"es": "Nombre", "en": "Name"},
    "q_company": {"es": "Empresa", "en": "Company"},
    "q_email": {"es": "Email", "en": "Email"},
    "q_asked": {"es": "Preguntada", "en": "Asked"},
    "q_answered": {"es": "Contestada", "en": "Answered"},
    "q_reasked": {"es": "Repreguntada", "en": "Re-asked"},
    "q_explained": {"es": "«¿Por qué?»", "en": "\u201cWhy?\u201d"},
    "q_skipped": {"es": "Saltada", "en": "Skipped"},
    "q_gave_up": {"es": "Se rindió", "en": "Gave up"},
    "q_stopped": {"es": "Paró", "en": "Stopped"},
    "q_abandoned": {"es": "Abandonó", "en": "Abandoned"},
    "q_answer_rate": {"es": "% contesta", "en": "Answer rate"},
    "q_abandon_rate": {"es": "% abandona", "en": "Abandon rate"},
    "analytics_questions": {"es": "Por pregunta", "en": "Per question"},
    "analytics_questions_chart": {
        "es": "Por pregunta: parte de las conversaciones en que se hizo",
        "en": "Per question: share of the conversations it was asked in",
    },
    "analytics_questions_hint": {
        "es": "Conversaciones distintas. Abandonó: lo último que pasó en una conversación callada 30 minutos.",
        "en": "Distinct conversations. Abandoned: the last thing in a conversation quiet for 30 minutes.",
    },
    "analytics_no_questions": {"es": "Aún no hay datos de preguntas.", "en": "No question figures yet."},
    "analytics_since": {"es": "Embudo desde", "en": "Funnel since"},
    "analytics_bad_since": {"es": "Fecha no válida: {value}", "en": "Not a date: {value}"},
    "analytics_funnel": {"es": "Embudo", "en": "Funnel"},
    "analytics_rates": {
        "es": "Conversión: nosotros y la referencia",
        "en": "Conversion: ours and the benchmark",
    },
    "analytics_per_week": {"es": "Por semana", "en": "Per week"},
    "analytics_week": {"es": "Semana (lunes)", "en": "Week (Monday)"},
    "analytics_visitors_week": {"es": "Visitantes y leads por semana", "en": "Visitors and leads per week"},
    "analytics_stages_week": {"es": "Etapas alcanzadas por semana", "en": "Stages reached per week"},
    "analytics_no_funnel": {"es": "Aún no hay datos del embudo.", "en": "No funnel figures yet."},
    "funnel_visitors": {"es": "Visitantes", "en": "Visitors"},
    "funnel_leads": {"es": "Leads", "en": "Leads"},
    "funnel_mql": {"es": "MQL", "en": "MQL"},
    "funnel_sal": {"es": "SAL", "en": "SAL"},
    "funnel_sql": {"es": "SQL", "en": "SQL"},
    "funnel_opportunity": {"es": "Oportunidades", "en": "Opportunities"},
    "rate_visitor_to_mql": {"es": "Visitante → MQL", "en": "Visitor → MQL"},
    "rate_mql_to_sal": {"es": "MQL → SAL", "en": "MQL → SAL"},
    "rate_sal_to_sql": {"es": "SAL → SQL", "en": "SAL → SQL"},
    "rate_sql_to_opportunity": {"es": "SQL → oportunidad", "en": "SQL → opportunity"},
    "rate_ours": {"es": "Nosotros", "en": "Ours"},
    "rate_benchmark": {"es": "Referencia", "en": "Benchmark"},
    "analytics_calibration": {"es": "Calibración de la puntuación", "en": "Score calibration"},
    "analytics_calibration_hint": {
        "es": "{leads} leads con resultado conocido ({won} ganados: llegaron a oportunidad; el resto descartados"
        " o reciclados por una persona).",
        "en": "{leads} leads whose outcome is known ({won} won: reached opportunity; the rest disqualified or"
        " recycled by a person).",
    },
    "analytics_by_band": {"es": "Por tramo de puntuación", "en": "Per score band"},
    "analytics_by_grade": {"es": "Por grado", "en": "Per grade"},
    "analytics_by_rule": {"es": "Por regla de puntuación", "en": "Per scoring rule"},
    "analytics_won": {"es": "Ganados", "en": "Won"},
    "analytics_known": {"es": "Conocidos", "en": "Known"},
    "analytics_with": {"es": "Con la regla: ganados", "en": "With the rule: won"},
    "analytics_without": {"es": "Sin ella: ganados", "en": "Without it: won"},
    "conversion_rate": {"es": "Conversión", "en": "Conversion"},
    # -- the score in sentences (explain.py) --
    "explain_and": {"es": "y", "en": "and"},
    "explain_one_month": {"es": "1 mes", "en": "1 month"},
    "explain_n_months": {"es": "{n} meses", "en": "{n} months"},
    "explain_converted": {"es": "{amount} (= {converted})", "en": "{amount} (= {converted})"},
    "explain_budget_qualifies": {
        "es": "Presupuesto de {amount}: llega al mínimo de {minimum}.",
        "en": "Budget of {amount}: reaches the minimum of {minimum}.",
    },
    "explain_budget_below": {
        "es": "Presupuesto de {amount}: por debajo del mínimo de {minimum}.",
        "en": "Budget of {amount}: below the minimum of {minimum}.",
    },
    "explain_budget_open": {
        "es": "Presupuesto desde {amount}, sin tope: llega al mínimo.",
        "en": "Budget from {amount} with no upper limit: reaches the minimum.",
    },
    "explain_budget_none": {"es": "No tiene presupuesto.", "en": "Has no budget."},
    "explain_budget_unknown": {"es": "No sabemos su presupuesto.", "en": "Their budget is not known."},
    "explain_budget_no_amount": {
        "es": "Habló de presupuesto pero sin dar una cantidad.",
        "en": "Talked about a budget but gave no amount.",
    },
    "explain_budget_currency": {
        "es": "Dio el presupuesto en {currency}, una moneda que no sabemos convertir.",
        "en": "Gave the budget in {currency}, a currency we cannot convert.",
    },
    "explain_authority_decision_maker": {"es": "Decide la compra.", "en": "Makes the buying decision."},
    "explain_authority_influencer": {"es": "Decide la compra con otros.", "en": "Decides the purchase with others."},
    "explain_authority_user": {
        "es": "La compra la decide otra persona.",
        "en": "Someone else makes the buying decision.",
    },
    "explain_authority_none": {
        "es": "No participa en la decisión de compra.",
        "en": "Takes no part in the buying decision.",
    },
    "explain_authority_other": {"es": "Papel en la compra: {level}.", "en": "Role in the purchase: {level}."},
    "explain_authority_unknown": {
        "es": "No sabemos si decide la compra.",
        "en": "We do not know whether they decide the purchase.",
    },
    "explain_need_match": {
        "es": "Necesita «{need}», algo que cubrimos.",
        "en": "Needs \u201c{need}\u201d, which we cover.",
    },
    "explain_need_none": {"es": "No tiene una necesidad que cubramos.", "en": "Has no need we cover."},
    "explain_need_unknown": {"es": "No sabemos qué necesita.", "en": "We do not know what they need."},
    "explain_timing_window": {
        "es": "Quiere empezar en {months} (plazo de hasta {window}).",
        "en": "Wants to start within {months} (window of up to {window}).",
    },
    "explain_timing_asap": {
        "es": "Quiere empezar cuanto antes (plazo de hasta {window}).",
        "en": "Wants to start as soon as possible (window of up to {window}).",
    },
    "explain_timing_too_late": {
        "es": "Quiere empezar en {months}: más tarde que cualquier plazo.",
        "en": "Wants to start in {months}: later than every window.",
    },
    "explain_timing_no_rush": {"es": "Sin fecha: solo está mirando.", "en": "No date: just looking."},
    "explain_timing_unknown": {
        "es": "No sabemos cuándo quiere empezar.",
        "en": "We do not know when they want to start.",
    },
    "explain_extra_option": {
        "es": "Pregunta extra «{question}»: contestó «{option}».",
        "en": "Extra question \u201c{question}\u201d: answered \u201c{option}\u201d.",
    },
    "explain_extra_answered": {
        "es": "Contestó la pregunta extra «{question}».",
        "en": "Answered the extra question \u201c{question}\u201d.",
    },
    "explain_territory": {
        "es": "País {country}: dentro de nuestro territorio.",
        "en": "Country {country}: in our territory.",
    },
    "explain_far_away": {
        "es": "País {country}: lejos de nuestro territorio.",
        "en": "Country {country}: far from our territory.",
    },
    "explain_company_size": {
        "es": "Empresa de {employees} empleados: tamaño «{band}».",
        "en": "A company of {employees} employees: size \u201c{band}\u201d.",
    },
    "explain_band_micro": {"es": "micro", "en": "micro"},
    "explain_band_small": {"es": "pequeña", "en": "small"},
    "explain_band_medium": {"es": "mediana", "en": "medium"},
    "explain_band_large": {"es": "grande", "en": "large"},
    "explain_persona": {
        "es": "Su cargo «{title}» encaja con el perfil «{keyword}».",
        "en": "Their job title \u201c{title}\u201d matches the persona \u201c{keyword}\u201d.",
    },
    "explain_event_pricing": {"es": "Vio la página de precios ({url}).", "en": "Viewed the pricing page ({url})."},
    "explain_event_landing": {"es": "Visitó una landing page ({url}).", "en": "Visited a landing page ({url})."},
    "explain_event_page": {"es": "Vio una página de la web ({url}).", "en": "Viewed a page of the site ({url})."},
    "explain_event_demo_request": {"es": "Pidió una demo.", "en": "Asked for a demo."},
    "explain_event_webinar_attended": {"es": "Asistió a un webinar.", "en": "Attended a webinar."},
    "explain_event_email_reply": {"es": "Respondió a un email.", "en": "Replied to an email."},
    "explain_event_newsletter_signup": {"es": "Se suscribió a la newsletter.", "en": "Signed up for the newsletter."},
    "explain_event_call_completed": {"es": "Tuvo una llamada con ventas.", "en": "Had a call with sales."},
    "explain_event_form_submitted": {"es": "Envió un formulario.", "en": "Submitted a form."},
    "explain_event_unsubscribed": {"es": "Se dio de baja de los emails.", "en": "Unsubscribed from emails."},
    "explain_event_meeting_no_show": {"es": "No se presentó a una reunión.", "en": "Did not show up for a meeting."},
    "explain_event_cta_click": {
        "es": "Hizo clic en un botón de la web.",
        "en": "Clicked a call to action on the site.",
    },
    "explain_event_other": {"es": "Evento «{name}».", "en": "Event \u201c{name}\u201d."},
    "explain_capped": {
        "es": "No suma: ya contaban {max} como este en {days} días (habría sumado {would}).",
        "en": "Adds nothing: {max} like it already counted in {days} days (it would have added {would}).",
    },
    "explain_window_capped": {
        "es": "No suma: ya se llegó al tope de {max} puntos cada {days} días (habría sumado {would}).",
        "en": "Adds nothing: the cap of {max} points per {days} days was reached (it would have added {would}).",
    },
    "explain_window_limited": {
        "es": "Suma solo {points} por el tope de {max} puntos cada {days} días (habría sumado {would}).",
        "en": "Adds only {points} because of the cap of {max} points per {days} days (it would have added {would}).",
    },
    "explain_decayed": {
        "es": "Sumó {points}; con el paso del tiempo ahora vale {value}.",
        "en": "It added {points}; with time it is now worth {value}.",
    },
    "explain_decay_total": {
        "es": "Los puntos de comportamiento cambiaron {delta} con el paso del tiempo.",
        "en": "Behaviour points changed by {delta} with time.",
    },
    "explain_other_rule": {"es": "Regla de puntuación: {points} puntos.", "en": "Scoring rule: {points} points."},
    "explain_threshold_met": {
        "es": "La puntuación {total} llega al umbral de {stage} ({minimum}).",
        "en": "The score {total} reaches the {stage} threshold ({minimum}).",
    },
    "explain_threshold_below": {
        "es": "La puntuación {total} no llega al umbral de {stage} ({minimum}).",
        "en": "The score {total} is below the {stage} threshold ({minimum}).",
    },
    "explain_criteria_met": {"es": "Cumplen: {criteria}.", "en": "Qualified: {criteria}."},
    "explain_criteria_missing": {"es": "No cumplen: {criteria}.", "en": "Not qualified: {criteria}."},
    "explain_sales_ready_note": {
        "es": "Listo para ventas: falta que un SDR lo acepte.",
        "en": "Sales-ready: waiting for an SDR to accept it.",
    },
    "explain_went_cold": {
        "es": "Sin actividad desde el {date} (más de {days} días).",
        "en": "No activity since {date} (more than {days} days).",
    },
    "explain_source_answer": {"es": "respuesta", "en": "answer"},
    "explain_source_profile": {"es": "perfil", "en": "profile"},
    "explain_source_event": {"es": "actividad", "en": "activity"},
    "explain_stage_standing": {"es": "Frente a los umbrales de etapa", "en": "Against the stage thresholds"},
    "explain_event_name_page": {"es": "página vista", "en": "page view"},
    "explain_event_name_demo_request": {"es": "pidió una demo", "en": "demo request"},
    "explain_event_name_webinar_attended": {"es": "asistió a un webinar", "en": "webinar attended"},
    "explain_event_name_email_reply": {"es": "respondió a un email", "en": "email reply"},
    "explain_event_name_unsubscribed": {"es": "se dio de baja", "en": "unsubscribed"},
    "explain_event_name_meeting_no_show": {"es": "no se presentó a una reunión", "en": "meeting no-show"},
    "explain_event_name_cta_click": {"es": "clic en un botón", "en": "call-to-action click"},
    "explain_event_name_newsletter_signup": {"es": "alta en la newsletter", "en": "newsletter signup"},
    "explain_event_name_call_completed": {"es": "llamada hecha", "en": "call completed"},
    "explain_event_name_form_submitted": {"es": "formulario enviado", "en": "form submitted"},
}

# Reason codes (leadqual.scoring.stages.REASON_CODES), as SDRs read them.
REASONS: dict[str, dict[str, str]] = {
    "score_threshold": {"es": "la puntuación llegó al umbral", "en": "the score reached the threshold"},
    "marketing_review": {"es": "revisado por marketing", "en": "reviewed by marketing"},
    "sales_accepted": {"es": "aceptado por ventas", "en": "accepted by sales"},
    "meeting_held": {"es": "reunión de descubrimiento hecha", "en": "discovery meeting held"},
    "sales_qualified": {"es": "ventas confirmó el encaje", "en": "sales confirmed the fit"},
    "deal_created": {"es": "oportunidad creada", "en": "deal created"},
    "score_dropped": {"es": "la puntuación bajó del umbral", "en": "the score fell below the threshold"},
    "no_budget": {"es": "sin presupuesto suficiente", "en": "no budget, or too little"},
    "no_authority": {"es": "no decide ni influye en la compra", "en": "cannot decide or influence the purchase"},
    "no_need": {"es": "no tiene una necesidad que cubramos", "en": "no need the product meets"},
    "bad_timing": {"es": "no compra ahora; quizá más adelante", "en": "not buying now; maybe later"},
    "unresponsive": {"es": "no contesta llamadas ni emails", "en": "does not answer calls or emails"},
    "went_cold": {"es": "sin actividad demasiado tiempo", "en": "no activity for too long"},
    "duplicate": {"es": "duplicado de otro lead", "en": "duplicate of another lead"},
    "competitor": {"es": "un competidor", "en": "a competitor"},
    "student": {"es": "estudiante o investigador", "en": "a student or researcher"},
    "spam": {"es": "spam o contacto falso", "en": "spam or a fake contact"},
    "wrong_contact": {"es": "datos de contacto erróneos", "en": "wrong or invalid contact details"},
    "reopened": {"es": "lead descartado reabierto", "en": "a disqualified lead was re-opened"},
}


def pick(preferred: str | None, accept_language: str | None) -> str:
    """The user's saved language, else the first of ours in Accept-Language, else Spanish."""
    if preferred in LANGUAGES:
        return preferred
    weighted = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, i, tag.strip().lower()[:2]))
    for _, _, tag in sorted(weighted):
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def translator(lang: str):
    """t(key, **values) in `lang`; an unknown key shows as itself so a gap is visible, not fatal."""

    def t(key: str, **values) -> str:
        entry = STRINGS.get(key)
        text = entry.get(lang) or entry.get(DEFAULT) if entry else key
        return text.format(**values) if values else text

    return t


# -- privacy (GDPR) pages: leadqual/console/privacy_pages.py, templates/privacy.html ------------
STRINGS.update(
    {
        "privacy": {"es": "Privacidad", "en": "Privacy"},
        "privacy_hint": {
            "es": "Exporta o borra todo lo que guardamos de una persona (RGPD, arts. 15, 17 y 20).",
            "en": "Export or erase everything held about one person (GDPR arts. 15, 17 and 20).",
        },
        "privacy_export": {"es": "Exportar una persona", "en": "Export a person"},
        "privacy_export_button": {"es": "Descargar sus datos (JSON)", "en": "Download their data (JSON)"},
        "privacy_erase": {"es": "Borrar una persona", "en": "Erase a person"},
        "privacy_erase_hint": {
            "es": "Borra el lead y todo lo vinculado: conversaciones, eventos, notas, envíos (también los pendientes)"
            " y sus conversaciones en Rasa. No se puede deshacer.",
            "en": "Deletes the lead and everything linked: conversations, events, notes, outbox messages (pending"
            " ones too) and their conversations in Rasa. This cannot be undone.",
        },
        "privacy_erase_button": {"es": "Borrar para siempre", "en": "Erase for good"},
        "privacy_confirm_email": {"es": "Escribe el email otra vez", "en": "Type the email again"},
        "privacy_reason": {
            "es": "Motivo (p. ej. referencia de la solicitud)",
            "en": "Reason (e.g. the request's reference)",
        },
        "privacy_confirm_mismatch": {
            "es": "El email de confirmación no coincide: no se ha borrado nada.",
            "en": "The confirmation email does not match: nothing was erased.",
        },
        "privacy_reason_needed": {"es": "Indica el motivo del borrado.", "en": "Give the reason for the erasure."},
        "privacy_not_found": {
            "es": "No hay ningún lead con ese email.",
            "en": "There is no lead with that email.",
        },
        "privacy_erased": {
            "es": "Borrado registrado ({id}): {rows} filas eliminadas.",
            "en": "Erasure recorded ({id}): {rows} rows deleted.",
        },
        "privacy_no_email": {
            "es": "Este lead no tiene email: no se puede exportar ni borrar por email.",
            "en": "This lead has no email: it cannot be exported or erased by email.",
        },
        "privacy_retention": {"es": "Conservación", "en": "Retention"},
        "privacy_retention_text": {
            "es": "Eventos anónimos: {events} días. Transcripciones de conversaciones que nunca llegaron a MQL: "
            "{transcripts} días (bin/leads retention, cada día).",
            "en": "Anonymous events: {events} days. Transcripts of conversations that never reached MQL: "
            "{transcripts} days (bin/leads retention, daily).",
        },
        "privacy_consent_on": {
            "es": "El chat pide consentimiento para emails de marketing.",
            "en": "The chat asks for consent to marketing email.",
        },
        "privacy_consent_off": {
            "es": "El chat no pide consentimiento para emails de marketing.",
            "en": "The chat does not ask for consent to marketing email.",
        },
        "privacy_erasures": {"es": "Borrados realizados", "en": "Erasures"},
        "privacy_no_erasures": {"es": "Ningún borrado todavía.", "en": "No erasure yet."},
        "privacy_by": {"es": "Por", "en": "By"},
        "privacy_rows": {"es": "Filas borradas", "en": "Rows deleted"},
        "privacy_nothing_held": {"es": "no había datos", "en": "nothing was held"},
        "privacy_tracker": {"es": "Conversaciones en Rasa", "en": "Conversations in Rasa"},
        "privacy_tracker_deleted": {"es": "borradas en Rasa", "en": "deleted in Rasa"},
        "privacy_tracker_pending": {
            "es": "pendiente en Rasa (se reintenta cada día)",
            "en": "pending in Rasa (retried daily)",
        },
        "privacy_tracker_not_configured": {
            "es": "El almacén de conversaciones de Rasa no está configurado (LEADQUAL_RASA_TRACKER_STORE_URL):"
            " no se toca.",
            "en": "Rasa's tracker store is not configured (LEADQUAL_RASA_TRACKER_STORE_URL): it is not touched.",
        },
        "privacy_tracker_nothing": {"es": "sin conversaciones", "en": "no conversation"},
    }
)
