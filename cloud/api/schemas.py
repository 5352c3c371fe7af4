"""JSON schemas of the REST API: the answers (SCHEMAS), the request bodies (BODY), the path parameters, and the
device API's (DEVICE_SCHEMAS). They validate requests and make the published OpenAPI documents."""
from __future__ import annotations

from .. import verifier
from ..services.error_reports import EVENT_IN_FUTURE, EVENT_TOO_OLD

S = lambda **kw: {"type": "string", **kw}  # noqa: E731
NS = lambda **kw: {"type": "string", "nullable": True, **kw}  # noqa: E731
GUID = {"type": "string", "format": "uuid"}
GUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
INT32_MAX = 2 ** 31 - 1             # the databases' INTEGER (PostgreSQL refuses more)
INT = {"type": "integer", "minimum": 0, "maximum": INT32_MAX}   # every integer field is bounded


def obj(props: dict, required: list | None = None, extra: bool = True) -> dict:
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    if not extra:
        out["additionalProperties"] = False
    return out


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    # The real API's ErrorResponse: Code an integer (0 OperationFailed .. 8 NotFound); ErrorCode (extension) names
    # this service's specific reason (DeviceAlreadyClaimed, TokenExpired, ...).
    "Error": obj({"Code": {"type": "integer", "minimum": 0, "maximum": 8}, "ErrorCode": S(), "Message": S()},
                 ["Code", "Message"]),
    "Tenant": obj({"Id": GUID, "Name": S(), "CreatedAt": NS(), "Roles": arr(S())}, ["Id", "Name"]),
    "Product": obj({"Id": GUID, "TenantId": GUID, "Name": S(), "Description": S()}, ["Id", "Name"]),
    "DeviceGroup": obj({"Id": GUID, "TenantId": GUID, "ProductId": GUID, "Name": S(), "Description": S(),
                        "OsFeedType": {"type": "integer", "enum": [0, 1]},
                        "UpdatePolicy": {"type": "integer", "enum": [0, 1, 2]},
                        "AllowCrashDumpsCollection": {"type": "boolean"}, "CurrentDeploymentId": NS(),
                        "RegionalDataBoundary": {"type": "integer", "enum": [0, 1], "description": "0 None, 1 EU"},
                        "CurrentDeployment": {"type": "object", "nullable": True, "properties": {
                            "Id": GUID, "TenantId": GUID, "DeployedImages": arr(GUID), "DeploymentDateUtc": S()}}},
                       ["Id", "ProductId", "Name", "OsFeedType", "UpdatePolicy"]),
    "Image": obj({"Id": GUID, "ComponentId": GUID, "ImageType": INT, "Name": S(), "SecurityVersion": INT,
                  "SigningThumbprint": S(), "Sha256": S(), "Size": INT,
                  "TrustStatus": {"type": "string", "enum": ["Trusted", "Revoked"]}, "UploadedAt": NS()},
                 ["Id", "ComponentId", "ImageType"]),
    "Deployment": obj({"Id": GUID, "DeviceGroupId": GUID, "DeployedImages": arr(GUID), "DeploymentDateUtc": S(),
                       "DeployedBy": S(), "Current": {"type": "boolean"}}, ["Id", "DeployedImages"]),
    "Device": obj({"DeviceId": S(), "TenantId": GUID, "DeviceGroupId": NS(), "ChipSku": S(),
                   "Capabilities": arr(S()), "ReportedCapabilities": arr(S()), "OsVersion": S(),
                   "InstalledImages": {"type": "object", "additionalProperties": S()}, "ClaimedAt": NS(),
                   "LastAttestedAt": NS(), "LastUpdateCheckAt": NS()}, ["DeviceId", "TenantId"]),
    "Operation": obj({"OperationId": GUID, "OperationType": {"type": "integer", "minimum": 0, "maximum": 11},
                      "State": {"type": "integer", "enum": [0, 1, 2, 3, 4],
                                "description": "0 NotStarted, 1 InProgress, 2 Complete, 3 Failed, "
                                               "4 CompleteWithErrors"},
                      "TenantId": GUID, "CreatedDateUTC": S(), "StartedDateUTC": NS(), "CompletedDateUTC": NS(),
                      "ResourceLocation": NS(), "DetailsLocation": NS(), "Result": {}, "Error": ref("Error")},
                     ["OperationId", "OperationType", "State"]),
    "Role": obj({"User": S(), "Roles": arr(S())}, ["User", "Roles"]),
    "Certificate": obj({"Thumbprint": S(), "Status": {"type": "string", "enum": ["Active", "Inactive", "Expired"]},
                        "StartDate": S(), "EndDate": S(), "ActiveFrom": S(), "Subject": S()}, ["Thumbprint", "Status"]),
    "ErrorEvent": obj({"DeviceId": S(), "DeviceGroupId": NS(), "EventTime": S(), "EventCategory": S(),
                       "EventClass": S(), "EventType": S(), "Description": S(), "EventCount": INT, "OsVersion": S(),
                       "ComponentId": S(), "ImageId": S()}, ["DeviceId", "EventTime"]),
    "UpdateStatus": obj({"DeviceId": S(), "DeviceGroupId": NS(),
                         "Reasons": arr(obj({"Code": S(), "Message": S()}, ["Code", "Message"])),
                         "Images": arr(obj({"ImageId": S(), "State": S(), "DeploymentId": NS(), "OfferedAt": NS(),
                                            "Deadline": NS()}))}, ["DeviceId", "Reasons"]),
    "DeploymentStatus": obj({"DeviceGroupId": GUID, "DeploymentId": NS(),
                             "Summary": {"type": "object", "additionalProperties": INT}, "Devices": arr(obj({}))},
                            ["DeviceGroupId", "Summary"]),
}


SCHEMAS.update({
    "AuditEntry": obj({"Id": INT, "Time": S(), "User": NS(), "TenantId": NS(), "Method": S(), "Path": S(),
                       "Operation": S(), "Status": INT, "Detail": S()}, ["Id", "Time", "Method", "Path", "Status"]),
    "Token": obj({"Token": S(), "ExpiresAt": S()}, ["Token", "ExpiresAt"]),
    "CapabilityImage": obj({"DeviceId": S(), "Capabilities": arr(S()), "Image": S(format="byte")},
                           ["DeviceId", "Capabilities", "Image"]),
    "DeviceInsight": obj({"DeviceId": S(), "DescriptionCode": INT, "DescriptionCleaned": S(),
                          "StartTimestampInUnix": {"type": "integer", "minimum": 0, "maximum": 2 ** 40},
                          "EndTimestampInUnix": {"type": "integer", "minimum": 0, "maximum": 2 ** 40},
                          "EventCategory": S(), "EventClass": S(), "EventType": S(), "EventCount": INT},
                         ["DeviceId", "StartTimestampInUnix", "EventCount"]),
    "Me": obj({"Name": S(), "ServiceRoles": arr(S()), "TokenExpiresAt": NS()}, ["Name", "ServiceRoles"]),
    "RegistryResult": obj({"Registered": INT, "Refused": arr(obj({"DeviceId": S(), "Message": S()}))},
                          ["Registered", "Refused"]),
    "RegisteredDevice": obj({"DeviceId": S(), "AttestationPublicKey": S(), "RegisteredAt": S(), "RegisteredBy": S()},
                            ["DeviceId", "AttestationPublicKey"]),
})


def page_of(item: str) -> dict:
    return obj({"Items": arr(ref(item)), "ContinuationToken": NS()}, ["Items"])


# Names are trimmed of surrounding white space (cloud/services/base.py name()): one that is all white space is
# refused, so the schema asks for a character that is not.
# A name: no control characters, and at least one character that is not white space. The white space is spelled out
# so the pattern means the same in every regex dialect (Python's \s also matches U+001C..U+001F, ECMA-262's does not,
# and schemathesis generated "\u001f" as a valid name that the service refused).
_CONTROL = r"\u0000-\u001f\u007f-\u009f"
_SPACE = r"\t\n\u000b\u000c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NAME = {"type": "string", "minLength": 1, "maxLength": 200,
        "pattern": rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"}
BODY = {
    "TenantCreate": obj({"Name": NAME}, ["Name"]),
    "TenantPatch": obj({"Name": NAME}, ["Name"]),
    "ProductCreate": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000},
                          "CreateDefaultGroups": {"type": "boolean"}}, ["Name"]),
    "ProductPatch": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000}}),
    "DeviceGroupCreate": obj({"Name": NAME, "ProductId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
                              "RegionalDataBoundary": {"type": "integer", "enum": [0, 1]},
                              "Description": {"type": "string", "maxLength": 2000},
                              "OsFeedType": {"type": "integer", "enum": [0, 1]},
                              "UpdatePolicy": {"type": "integer", "enum": [0, 1, 2]},
                              "AllowCrashDumpsCollection": {"type": "boolean"}}, ["Name", "ProductId"]),
    "DeviceGroupPatch": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000},
                             "RegionalDataBoundary": {"type": "integer", "enum": [0, 1]},
                             "OsFeedType": {"type": "integer", "enum": [0, 1]},
                             "UpdatePolicy": {"type": "integer", "enum": [0, 1, 2]},
                             "AllowCrashDumpsCollection": {"type": "boolean"}}),
    "DeploymentCreate": obj({"DeployedImages": {"type": "array", "items": {"type": "string", "format": "uuid",
                                                                           "pattern": GUID_PATTERN},
                                                 "maxItems": 64}},
                            ["DeployedImages"]),
    "Claim": obj({"DeviceId": {"type": "string", "minLength": 128, "maxLength": 128, "pattern": "^[0-9A-Fa-f]+$"},
                  "AttestationPublicKey": {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"},
                  "DeviceGroupId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN}}, ["DeviceId"]),
    "MoveDevice": obj({"DeviceGroupId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN}},
                      ["DeviceGroupId"]),
    "CapabilityImageRequest": obj({"Capabilities": {"type": "array", "maxItems": 3, "items": {
        "type": "string", "enum": ["appDevelopment", "fieldServicing", "rfTest"]}}}),
    "Capabilities": obj({"Capabilities": {"type": "array", "items": {"type": "string", "enum": [
        "appDevelopment", "fieldServicing", "rfTest"]}, "maxItems": 8}},
                        ["Capabilities"]),
    "RoleAdd": obj({"User": NAME, "Role": {"type": "string", "enum": ["Administrator", "Contributor", "Reader"]}},
                   ["User", "Role"]),
    "SvnFloor": obj({"MinimumSecurityVersion": {"type": "integer", "minimum": 0, "maximum": 4294967295}},
                    ["MinimumSecurityVersion"]),
}
BODY["RegistryEnrol"] = obj({"Devices": {"type": "array", "minItems": 1, "maxItems": 10000, "items": obj(
    {"DeviceId": BODY["Claim"]["properties"]["DeviceId"],
     "AttestationPublicKey": {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"}},
    ["DeviceId", "AttestationPublicKey"])}}, ["Devices"])
BODY["TenantCreateForDevice"] = obj({"DeviceId": BODY["Claim"]["properties"]["DeviceId"], "TenantFriendlyName": NAME},
                                    ["DeviceId", "TenantFriendlyName"])
BODY["BulkClaimIds"] = {"type": "array", "minItems": 1, "maxItems": 1000,
                        "items": BODY["Claim"]["properties"]["DeviceId"]}
BODY["BulkClaim"] = obj({"Devices": {"type": "array", "items": BODY["Claim"], "minItems": 1, "maxItems": 5000}},
                        ["Devices"])


PATH_PARAMS = {
    "tenantId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "productId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "deviceGroupId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "imageId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "componentId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "operationId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "deviceId": {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"},
    "thumbprint": {"type": "string", "pattern": "^(current|[0-9A-Fa-f]{40})$"},
    "userName": NAME,
    "version": {"type": "string", "minLength": 1, "maxLength": 64},
    "imageType": {"type": "string", "pattern": "^[0-9]{1,3}$"},
    "proofOfPossessionNonce": {"type": "string", "pattern": "^[0-9A-Za-z._-]{1,64}$"},
}


DEVICE_API_VERSION = "1.1.0"   # 1.1: error uploads answer Dropped (events outside the report's time window)
B64 = {"type": "string", "format": "byte"}
HEX128 = {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"}
DEVICE_SCHEMAS = {
    "Error": obj({"Code": S(description="the reason's name"), "Message": S()}, ["Code", "Message"]),
    "Device": SCHEMAS["Device"],
    "NonceRequest": obj({"DeviceId": HEX128}, ["DeviceId"]),
    "Nonce": obj({"Nonce": B64, "ExpiresAt": S(format="date-time"), "ExpiresInSeconds": INT},
                 ["Nonce", "ExpiresAt", "ExpiresInSeconds"]),
    "AttestationRequest": obj({"Evidence": B64, "ClientPublicKey": B64, "Nonce": B64, "TenantId": GUID},
                              ["Evidence", "ClientPublicKey", "Nonce"]),
    "AttestationPassed": obj({"Result": S(enum=["Passed"]), "ClientCertificate": S(), "UpdateCertificate": S(),
                              "CertificateChain": S(), "RootCertificate": S(), "ExpiresAt": S(format="date-time"),
                              "AttestationResult": obj({})},
                             ["Result", "ClientCertificate", "UpdateCertificate", "CertificateChain",
                              "RootCertificate", "ExpiresAt"]),
    "AttestationFailed": obj({"Result": S(enum=["Failed"]), "Reason": S(enum=list(verifier.REASONS)),
                              "Message": S()}, ["Result", "Reason", "Message"]),
    "UpdateCheckRequest": obj({"InstalledImages": {"type": "array", "maxItems": 64, "items": obj(
                                   {"ComponentId": GUID, "ImageId": GUID}, ["ComponentId", "ImageId"])},
                               "OsVersion": S(maxLength=64), "BootId": S(maxLength=64),
                               "Capabilities": arr(S()), "FailedImages": arr(GUID)}),
    "UpdateCheck": obj({"DeviceId": HEX128, "DeviceGroupId": NS(), "DeploymentId": NS(),
                        "TargetImages": arr(obj({"ImageId": GUID, "ComponentId": GUID, "ImageType": INT,
                                                 "SecurityVersion": INT, "DownloadPath": S()},
                                                ["ImageId", "ComponentId", "DownloadPath"])),
                        "Os": {"type": "object", "nullable": True,
                               "properties": {"Feed": INT, "TargetVersion": S(), "Images": arr(obj(
                                   {"ImageType": INT, "ImageId": GUID, "DownloadPath": S()},
                                   ["ImageType", "ImageId", "DownloadPath"]))}},
                        "Reasons": arr(obj({"Code": S(), "Message": S()}, ["Code", "Message"])),
                        "NextCheckSeconds": INT,
                        "SigningKeys": arr(obj({"Thumbprint": S(), "PublicKey": S(description="PEM, P-256")},
                                               ["Thumbprint", "PublicKey"])),
                        "CapabilityImages": arr(B64)},
                       ["DeviceId", "TargetImages", "Os", "Reasons", "NextCheckSeconds"]),
    "ErrorReportUpload": obj({"Events": {"type": "array", "maxItems": 1000, "items": obj(
        {"EventTime": S(description="ISO 8601; UTC when it carries no offset"), "EventCategory": S(),
         "EventClass": S(), "EventType": S(),
         "Description": S(), "EventCount": {"type": "integer", "minimum": 1, "maximum": INT32_MAX}, "OsVersion": S(),
         "ComponentId": S(),
         "ImageId": S()}, ["EventTime"])}}, ["Events"]),
    "ErrorReportResult": obj({
        "Accepted": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "events stored"},
        "Dropped": arr(obj({"Index": {"type": "integer", "minimum": 0, "maximum": 999,
                                      "description": "position in Events"},
                            "Reason": S(enum=[EVENT_TOO_OLD, EVENT_IN_FUTURE]),
                            "Message": S()}, ["Index", "Reason", "Message"]))}, ["Accepted", "Dropped"]),
}
