"""Cases: every alerted complaint is one, worked from Slack or the CLI (claim, resolve, not a complaint,
reopen); the state machine, and the desk that applies an action and shows it on every message of the case."""
