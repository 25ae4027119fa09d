"""Local stand-in of awsgluedq (Glue Data Quality): see transforms.EvaluateDataQuality."""
