"""Text: character classes, normalisation, the token stream, words and sentences."""
