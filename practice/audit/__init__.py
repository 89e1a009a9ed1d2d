"""The audit trail: who wrote or read a practice's data, when, from where, and why.

It sits at the bottom of the project (inside `practice`) so that every app records reads of
patients' health data by calling down into `practice.audit.services`. Writes are captured by
the database itself (`practice.audit.capture`), so no code path can bypass them.
"""
