"""getResolvedOptions like Glue's: --name value pairs, unknown arguments ignored, missing ones fail."""


class GlueArgumentError(Exception):
    pass


def getResolvedOptions(args, options):
    resolved = {}
    for name in options:
        flag = "--" + name
        found = False
        for i, arg in enumerate(args):
            if arg == flag:
                if i + 1 >= len(args):
                    raise GlueArgumentError(f"argument {flag}: expected one argument")
                resolved[name] = args[i + 1]
                found = True
            elif arg.startswith(flag + "="):
                resolved[name] = arg[len(flag) + 1:]
                found = True
        if not found:
            raise GlueArgumentError(f"the following arguments are required: {flag}")
    return resolved
