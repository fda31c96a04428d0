"""What a publisher and an auditor run: the environment record, signing, verification and audit."""
