"""Staff: who counts as staff (the `IsStaff` filter), staff commands (`/stats`), the agenda, /block and /bookfor."""
