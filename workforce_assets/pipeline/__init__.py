"""The thin Dagster layer: resources, partitions, assets per domain, checks, sensors, schedules.

Asset functions read their inputs from the warehouse, call the pure core and write a table plus metadata.
Nothing statistical lives here.
"""
