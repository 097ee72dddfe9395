"""Human review: who may do what to a case, the guardrails, ban proposals and SLAs (pure, no boto3)."""
