"""The API's bounds and fixed values: what the document declares and the endpoints enforce."""

from __future__ import annotations

INT4_MAX = 2**31 - 1  # Billig's and the site's ids are integer columns
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_OFFSET = 1_000_000
MAX_CHOICES = 50  # price groups in one selection
MAX_COUNT = 100  # tickets of one price group asked for; the event's own limit is checked after
MAX_BODY_BYTES = 16 * 1024
MAX_REASONS = 20
BSESSION_MAX = 64  # billig.payment_error.error is varchar(64)
# The first purchase of the default seed (60 events): its complete set, the documented example.
EXAMPLE_TICKET_REFS = ["10000112345", "10000254321"]
CACHE_CONTROL = "no-store"  # stock levels are live, and tickets and payments are private
BILLIG_TIMEOUT_S = 5.0  # statements, connecting, waiting for a pooled connection
BILLIG_GRACE_S = 2.0  # on top, before the client gives up on a Billig that does not answer

# A ticket reference: a ticket id (1 … 2**31-1, no leading zero) followed by Billig's 5-digit code.
# Spelled out so that the document, the validation and Schemathesis agree on every value.
TICKET_REF_PATTERN = (
    r"^(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])[0-9]{5}$"
)
MEMBERCARD_PATTERN = r"^[0-9]{1,19}$"
# No control characters and none of the characters Python counts as white space, which
# payment.py rejects in an address; written with escapes every regex dialect reads alike.
_NOT_IN_EMAIL = r"@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
EMAIL_PATTERN = rf"^[^{_NOT_IN_EMAIL}]+@[^{_NOT_IN_EMAIL}.]+(?:\.[^{_NOT_IN_EMAIL}.]+)+$"
EMAIL_MAX = 254
