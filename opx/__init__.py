"""opx Phase 6 incident-analysis executor.

Flow: EventBridge event -> :mod:`opx.events` (contract) -> :mod:`opx.lambda_handler`
-> :mod:`opx.graph` (five Bedrock agents in parallel -> response strategy -> consensus
-> cost guardian) -> response body.
"""
