"""Bedrock Agents action groups: the Lambdas the agents call for their evidence.

One module per group (``cloudwatch_metrics``, ``logs_insights``, ``xray``,
``incident_history``), each a ``handler(event, context)`` implementing the Bedrock
action-group Lambda contract (:mod:`contract`) over read-only, bounded AWS calls
(:mod:`aws`). :mod:`registry` lists them with their schema and IAM actions.
"""
