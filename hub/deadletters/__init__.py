"""Dead letters: what the hub stopped trying, kept to be understood, fixed and replayed."""
