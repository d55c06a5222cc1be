"""The SDR console (issue 7): sales reads each lead in ten seconds and decides what to do with it.

Run: python -m leadqual.console --port 8090 (bin/run starts it). Modules: app (routes), auth (users,
sessions, CSRF, roles), queries (list, filters, CSV, lead page), decisions (stage moves, notes,
reassigning, what goes to the CRM), i18n (Spanish and English).
"""
