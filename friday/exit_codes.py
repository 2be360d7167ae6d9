"""Process exit codes, a public interface (documented in `friday --help` and the README).
Their own module so the CLI and every front end can share them without importing each
other."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_MAX_TURNS = 3
EXIT_BUDGET = 4
EXIT_RETRYABLE = 75
EXIT_SIGINT = 130
EXIT_SIGPIPE = 141
EXIT_SIGTERM = 143
