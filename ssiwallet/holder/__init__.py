"""The holder's protocol flows (receive, present): library code the CLI and TUI call."""
