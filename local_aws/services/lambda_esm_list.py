# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ListEventSourceMappings: the FunctionName filter as AWS applies it.

What moto 5.2.5 does: ``ListEventSourceMappings`` keeps the mappings whose FunctionName
is the same *string* as the one given when the mapping was created. A mapping created
with the function's ARN is not listed when asked by name (and the other way round), and
a function that does not exist gives an empty list.

What AWS does (Lambda API reference, ListEventSourceMappings): ``FunctionName`` is the
function's name, ARN or partial ARN (with a version or alias qualifier, or without);
the mappings of that function are listed whichever form was used to create them, and a
function that does not exist is ``ResourceNotFoundException`` ("Function not found").

What this patch does: it resolves FunctionName to the function (moto raises
ResourceNotFoundException when it does not exist) and keeps the mappings whose
FunctionArn is that function's ARN. Without FunctionName nothing changes.
"""


def _function_arn(backend, function_name):
    """The function's ARN, qualified like ``function_name`` (unknown function: moto's 404)."""
    lambdas = backend._lambdas  # pylint: disable=protected-access
    fn = lambdas.get_function_by_name_or_arn_with_qualifier(function_name)
    name = function_name.split(":")
    qualifier = None
    if function_name.startswith("arn:") and len(name) == 8:
        qualifier = name[7]
    elif not function_name.startswith("arn:") and len(name) == 2:
        qualifier = name[1]
    arn = fn.function_arn
    if qualifier and not arn.endswith(":" + qualifier):
        arn = "%s:%s" % (arn.split(":function:")[0] + ":function:" + fn.function_name, qualifier)
    return arn


def install():
    from moto.awslambda import models as lambda_models  # pylint: disable=import-outside-toplevel

    if getattr(lambda_models.LambdaBackend.list_event_source_mappings, "logvault_patched", False):
        return
    original = lambda_models.LambdaBackend.list_event_source_mappings

    def list_event_source_mappings(self, event_source_arn, function_name):
        if not function_name:
            return original(self, event_source_arn, function_name)
        arn = _function_arn(self, function_name)
        esms = original(self, event_source_arn, None)
        return [esm for esm in esms if esm.function_arn == arn]

    list_event_source_mappings.logvault_patched = True
    lambda_models.LambdaBackend.list_event_source_mappings = list_event_source_mappings
