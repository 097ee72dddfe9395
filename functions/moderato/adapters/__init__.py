"""AWS adapters: the only modules under ``moderato`` that import boto3.

Each AWS resource has one small adapter with a narrow interface; handlers build them from settings,
the domain receives them, tests prove them against moto.
"""
