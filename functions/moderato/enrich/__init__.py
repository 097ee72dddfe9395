"""The enrich flow: fetch the text of a post that came as ids only, then classify and route its case."""
