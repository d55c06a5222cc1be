"""Whose lead a chat belongs to when it gives an email: the rule that keeps strangers apart.

Typing an email proves nothing: anyone can type someone else's. So a chat that gives the email
of an existing lead joins that lead only when it is already that person's: the same conversation
or the same browser (a visitor id tied to the lead by an earlier chat or by the company's own
`identify` call). Any other chat is an *unverified claim*: its answers stay on a lead of its own
(the email kept as `claimed_email`, not as the lead's email) until the person is verified — an
SDR confirms it in the console (or `bin/leads identity confirm`) — and the chat shows only what
this browser itself said. Before this rule an unverified chat replaced the victim's answers and
was greeted with the victim's name and qualification.
"""

from __future__ import annotations

from dataclasses import dataclass

SAME_PERSON = "same_person"
UNVERIFIED_CLAIM = "unverified_claim"
NEW_EMAIL = "new_email"


@dataclass(frozen=True)
class EmailClaim:
    """What a chat giving an email means for the lead that already has it (if any)."""

    kind: str  # SAME_PERSON, UNVERIFIED_CLAIM or NEW_EMAIL
    why: str


def judge_email(
    known_lead_id: str | None,
    conversation_lead_id: str | None,
    browser_lead_id: str | None,
    conversation_lead_has_other_email: bool = False,
) -> EmailClaim:
    """`known_lead_id`: the lead that holds the email already (None: nobody). The others: the
    lead this conversation is already on, and the lead this browser's visitor id is tied to."""
    if known_lead_id is None:
        return EmailClaim(NEW_EMAIL, "no lead has this email yet")
    if known_lead_id == conversation_lead_id:
        return EmailClaim(SAME_PERSON, "this conversation is already that lead's")
    if known_lead_id == browser_lead_id and not conversation_lead_has_other_email:
        return EmailClaim(SAME_PERSON, "this browser is already tied to that lead")
    return EmailClaim(UNVERIFIED_CLAIM, "another lead has this email and nothing ties this chat to it")
