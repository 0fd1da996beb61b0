"""Staff: who counts as staff (the `IsStaff` filter), staff commands (`/stats`, `/clients`) and the agenda."""
