"""Records -> the packed dataset training reads (tokenize -> spool -> mix -> pack -> stream); reads records only."""
