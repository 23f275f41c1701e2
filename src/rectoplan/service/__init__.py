"""HTTP adapters: the HL7 CDS Hooks service, POST /recommend and the clinician page (extra: service)."""
