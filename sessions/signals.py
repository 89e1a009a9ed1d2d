"""What the sessions app tells the apps above it, and its own booking tells the waitlist,
without knowing them.

Apps higher in the layers (billing, reports) must not be imported from here, yet some of them
react to what happens to a session: a late cancellation or no-show may cost a fee, a cancelled
course may refund what was paid for it, a session the patient booked online may ask a deposit.
Inside sessions, the waitlist offers the time a booking change frees. These signals are sent
by the services *inside* their transaction, so a receiver's writes commit with the change or
not at all; a receiver that raises rolls the change back, as it should when its own rule
cannot be kept.
"""

from __future__ import annotations

from django.dispatch import Signal

# A session was missed (R13): a no-show, or a cancellation inside the notice period.
# Sent with `session` (the row after the change) and `by` (the user, or None).
session_missed = Signal()

# A course was called off as a whole. Sent with `course`, `by` and `now`.
course_cancelled = Signal()

# Booked time came free: a session cancelled (alone or with its course) or moved away from its
# time. Sent with `session`, the freed `starts_at` and `ends_at`, the `schedule_version` the
# session held them at, and `now`. The waitlist offers the time (`sessions.waitlist.reactions`).
session_time_freed = Signal()

# A session was booked. Sent with `session`, `online` (the patient booked it themselves in the
# portal or the app) and `now`.
session_booked = Signal()
