"""DynamicFrame over a Spark DataFrame (no ChoiceType: Spark's JSON inference widens mixed types to string)."""


class DynamicFrame:
    def __init__(self, df, glue_ctx=None, name=""):
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name

    @classmethod
    def fromDF(cls, dataframe, glue_ctx, name):
        return cls(dataframe, glue_ctx, name)

    def toDF(self):
        return self._df

    def resolveChoice(self, specs=None, choice="", database=None, table_name=None, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0, catalog_id=None):
        if specs or choice not in ("make_struct", ""):
            raise NotImplementedError(f"e2e awsglue stand-in: resolveChoice(specs={specs!r}, choice={choice!r}) is not emulated")
        return self

    def count(self):
        return self._df.count()

    # Spark's readers have no error records: a line read of text never fails.
    def stageErrorsCount(self):
        return 0

    def errorsAsDynamicFrame(self):
        return DynamicFrame(self._df.limit(0), self.glue_ctx, self.name + "_errors")
