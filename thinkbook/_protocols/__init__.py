"""Wire protocols, one module each, behind one registry (see :mod:`thinkbook._protocols.base`)."""
