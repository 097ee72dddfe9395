"""The embedded local stack: template.yaml run on one machine with moto as AWS.

stack.LocalStack (entry point) - template/resolver (read template.yaml) - provision (create resources
in moto) - wiring/routes/pollers (event sources) - gateway/events (HTTP API payload 2.0) - runtime
(in-process handlers) - jwt_issuer (local Cognito stand-in) - process/serve (a stack in a child process).
"""
