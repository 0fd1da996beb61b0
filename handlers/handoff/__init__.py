"""Handoff: a client's messages go into their forum topic in the staff group, staff answers come back; Intake,
claim and assign; absence and office hours. Diagram: docs/flows/handoff.mmd."""
