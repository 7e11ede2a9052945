"""AWS runtime: S3, Athena, Bedrock, DynamoDB, SES and EventBridge behind the ports of vitalflow.ports."""
