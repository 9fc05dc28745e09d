"""Electronic invoices after EN 16931: UBL 2.1 and UN/CEFACT CII, and their validation."""
