"""Turn a visitor's free-text answer into a typed BANT value (Spanish first, English too).

Pure functions: no Rasa, no config files (the configured needs are passed in), nothing
fetched at run time. Every public parser returns None instead of raising, whatever it is
given (empty, very long, emoji, HTML, SQL...), because a chat message is untrusted input
and a parsing bug must never break the conversation.

One module per answer: budget, timing, authority, need, contact; what they share is in common.
"""

from leadqual.understanding.parsing.authority import parse_authority
from leadqual.understanding.parsing.budget import parse_budget
from leadqual.understanding.parsing.common import MAX_INPUT, Authority, Budget, Need, Timing, normalize
from leadqual.understanding.parsing.contact import parse_company, parse_email, parse_email_answer, parse_name
from leadqual.understanding.parsing.need import parse_need
from leadqual.understanding.parsing.timing import parse_timing, warm_up

__all__ = [
    "Authority",
    "Budget",
    "MAX_INPUT",
    "Need",
    "Timing",
    "normalize",
    "parse_authority",
    "parse_budget",
    "parse_company",
    "parse_email",
    "parse_email_answer",
    "parse_name",
    "parse_need",
    "parse_timing",
    "warm_up",
]
