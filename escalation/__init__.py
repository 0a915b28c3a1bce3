"""Everything a question goes through after the FAQ matcher: storage, escalation, delivery."""
