# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Lambda function's ``KMSKeyArn``: UpdateFunctionConfiguration changes it, as AWS does.

What moto 5.2.5 does: ``CreateFunction`` stores ``KMSKeyArn``, but ``UpdateFunctionConfiguration``
ignores it (``LambdaFunction.update_configuration`` knows Description, Handler, MemorySize, Role,
Runtime, Timeout, VpcConfig, Environment and Layers only). A client that moves an existing
function's environment variables to another key, or back to Lambda's own key, gets a success and
no change, and then sees the old key on every later run: it writes the key again and reports a
change each time, which no test could tell from a module that never converges. ``GetFunction`` and
``GetFunctionConfiguration`` also answer ``"KMSKeyArn": null`` for a function without a customer
managed key.

What AWS does (Lambda API reference, UpdateFunctionConfiguration,
https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html): ``KMSKeyArn``
is "The ARN of the Key Management Service (KMS) customer managed key that's used to encrypt ...
The function's environment variables ... If you don't provide a customer managed key, Lambda uses
an Amazon Web Services owned key or an Amazon Web Services managed key." The service model lets
it be empty (pattern ``(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()``), which turns the customer
managed key off. ``FunctionConfiguration`` lists ``KMSKeyArn`` among the members that are only
present when set ("Required: No";
https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html).

What this patch does: ``UpdateFunctionConfiguration`` with ``KMSKeyArn`` sets the function's key
(an empty value removes it), and a function without a customer managed key has no ``KMSKeyArn``
in its configuration. Whether the caller may use the key is not evaluated here (Lambda checks it
when it encrypts the variables; the collection's deployer policies grant it).
"""


def install():
    from moto.awslambda.models import LambdaFunction  # pylint: disable=import-outside-toplevel

    if getattr(LambdaFunction.update_configuration, "logvault_patched", False):
        return

    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def update_configuration(self, config_updates):
        if "KMSKeyArn" in config_updates:
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        return original_update(self, config_updates)

    def get_configuration(self, *args, **kwargs):
        config = original_get(self, *args, **kwargs)
        if not config.get("KMSKeyArn"):
            config.pop("KMSKeyArn", None)
        return config

    update_configuration.logvault_patched = True
    LambdaFunction.update_configuration = update_configuration
    LambdaFunction.get_configuration = get_configuration
