"""The opx CDK app: checkpoint table, executor Lambda, action groups, trigger, alarms.

Everything here is derived from the executor's own definitions -- the table from
``opx.checkpointing.TABLE_SCHEMA``, agent ids from ``opx.agents.settings``, action
groups from ``opx.action_groups.registry``, metric names from ``opx.metrics`` -- so
the stack cannot drift from the code it deploys. ``infra/app.py`` is the entry point.
"""
