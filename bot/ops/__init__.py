"""Operations: logging set-up (never message text, names or the token) and the Prometheus metrics that
`/metrics` serves."""
