"""Meet-your-Buyer as a market consultation: the buyer's profile, Q&A, one-to-one meetings."""
