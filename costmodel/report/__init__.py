"""Reports: tables in several formats, paper-style tables and figures."""
