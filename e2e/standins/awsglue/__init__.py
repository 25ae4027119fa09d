"""Local stand-in for the parts of AWS Glue's awsglue package the lake's jobs use (see e2e/README.md)."""
