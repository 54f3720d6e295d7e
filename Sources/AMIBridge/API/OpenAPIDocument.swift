import Hummingbird
import MariaDB
import NIOCore
import ViciDial

/// The OpenAPI 3.1 description of the HTTP API, served by `GET /openapi.json`.
///
/// `Docs/openapi.json` is the source of truth; the text below is a verbatim copy of it, so the
/// binary serves the document with no file on disk. (A SwiftPM `.copy` resource would need its
/// `amibridge_AMIBridge.resources` directory installed beside the binary, and `Bundle.module`
/// traps when it is missing; `.embedInCode` costs about 10 s of compile time per clean build for
/// a document this size.) After editing `Docs/openapi.json`, paste it here unchanged between the
/// delimiters: `OpenAPIDocumentTests` fails while the two differ by a byte, and also while the
/// document's paths and methods differ from the router's routes.
enum OpenAPIDocument {
    static let text = ##"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "amibridge",
    "version": "1.0.0",
    "summary": "HTTP API of amibridge, the ViciDial/Asterisk bridge: click-to-call, agent status, recordings and lead import.",
    "description": "Every `/v1` route needs an API key (`amibridge keys create`) as `Authorization: Bearer amib_<id>_<secret>`; `/healthz`, `/readyz`, `/openapi.json` and the status page (`/`, `/status.json`) need none.\n\n**Errors** are JSON with the HTTP status that fits: `{\"error\": {\"code\": \"...\", \"message\": \"...\"}}`. Branch on `code`; `message` is for people and may change. An unknown path, or a known path with another method, is a 404 `not_found`.\n\n**Answers** are JSON objects with sorted keys. Where a value is unknown it is `null`; its key is still there (exceptions are said where they apply).\n\n**Limits**, in the order they apply to every route: a browser `Origin` outside `api.cors_origins` is a 403 `forbidden`; a client address outside `api.ip_allowlist` (when set) is a 403 `forbidden`; a request body over `api.body_limit_bytes` (default 1 MiB) is a 413 `body_too_large`. On `/v1`, then: a missing, malformed, unknown or revoked key is a 401 `unauthorized`; each key has a token bucket of `api.rate_limit_per_minute` requests (default 100), after which the answer is a 429 `rate_limited` with `Retry-After` in seconds.\n\n**CORS**: an allowed `Origin` gets `Access-Control-Allow-Origin` on every answer, errors included; a preflight (`OPTIONS` with `Access-Control-Request-Method`) on any path is answered 204 without a key, allowing `GET, POST, DELETE, OPTIONS` and the headers `Authorization, Content-Type, Idempotency-Key`."
  },
  "servers": [
    {
      "url": "/",
      "description": "The daemon itself (`api.listen`, default 127.0.0.1:8088)."
    }
  ],
  "security": [
    {
      "bearerAuth": []
    }
  ],
  "tags": [
    {
      "name": "calls",
      "description": "Click-to-call: place a call (AMI Originate), follow it, hang it up."
    },
    {
      "name": "agents",
      "description": "ViciDial agents, from `vicidial_live_agents` and `vicidial_agent_log`."
    },
    {
      "name": "recordings",
      "description": "Recordings from ViciDial's `recording_log`."
    },
    {
      "name": "leads",
      "description": "Lead import into ViciDial's `vicidial_list`."
    },
    {
      "name": "status",
      "description": "The live status page (`GET /`), what it shows (`GET /status.json`) and its dead-letter retry."
    },
    {
      "name": "service",
      "description": "Health, readiness, key checks and this document."
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "tags": [
          "service"
        ],
        "operationId": "getHealth",
        "summary": "The process answers",
        "description": "Always 200 while the process serves HTTP; no dependency is checked (see `/readyz`).",
        "security": [],
        "responses": {
          "200": {
            "description": "Alive.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "tags": [
          "service"
        ],
        "operationId": "getReadiness",
        "summary": "Every dependency is ready",
        "description": "Runs every readiness check at once (each AMI server logged in, the ViciDial database reachable, the state directory writable) and lists them in order.",
        "security": [],
        "responses": {
          "200": {
            "description": "Every check is ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Readiness"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "503": {
            "description": "At least one check is not ready; its entry says why.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Readiness"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "tags": [
          "service"
        ],
        "operationId": "getOpenAPIDocument",
        "summary": "This document",
        "description": "The OpenAPI document of this API, built into the binary (its source is `Docs/openapi.json` in the repository).",
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/v1/ping": {
      "get": {
        "tags": [
          "service"
        ],
        "operationId": "ping",
        "summary": "Check a key",
        "description": "Goes through the key check and the rate limit and does nothing else: for monitoring and for checking a key.",
        "responses": {
          "200": {
            "description": "The key is valid.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Pong"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          }
        }
      },
      "post": {
        "tags": [
          "service"
        ],
        "operationId": "pingPost",
        "summary": "Check a key (POST)",
        "description": "As `GET /v1/ping`, for clients that can only POST. The body is ignored (but counts against the body limit).",
        "responses": {
          "200": {
            "description": "The key is valid.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Pong"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/BodyTooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          }
        }
      }
    },
    "/v1/calls": {
      "post": {
        "tags": [
          "calls"
        ],
        "operationId": "placeCall",
        "summary": "Place a click-to-call",
        "description": "Rings the agent's phone first (AMI `Originate`); once the agent answers, Asterisk dials the customer through `click_to_call.context` with `click_to_call.dial_prefix`. When `lead_id` is given the caller ID name is ViciDial's `M` caller code for the lead, so ViciDial's reports and the webhooks find the call.\n\nThe answer is 202 as soon as Asterisk accepted the Originate (or it was sent and its answer is late): the call's status is then followed with `GET /v1/calls/{id}` and the webhooks (`click2call_failed`, `call_answered`, `call_complete`, `disposition_set`), which carry `click2call_id` and what the request said (`agent_user`, `campaign_id`, `lead_id`, `list_id`, `phone_number`) even when ViciDial writes no row; a ViciDial row, when one comes, wins for the fields it has. Only a call with a `lead_id` waits for that row.\n\n**Idempotency**: with an `Idempotency-Key`, the same key and the same request from the same API key answer the call already placed (202, `Idempotent-Replayed: true`) and dial nothing; the same key with a different request is a 409 `idempotency_key_reused`. Keys are remembered as long as the call (`click_to_call.status_retention_minutes`). When the call could not be placed (4xx other than 409, 502, 503) the key is released and a retry dials.",
        "parameters": [
          {
            "$ref": "#/components/parameters/IdempotencyKey"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ClickToCallRequest"
              },
              "examples": {
                "agent_phone": {
                  "summary": "Ring a phone, then dial the customer",
                  "value": {
                    "agent_phone": "SIP/1001",
                    "phone_number": "+1 (800) 555-1234",
                    "campaign_id": "SALES",
                    "lead_id": 4242,
                    "caller_id": "3125551212",
                    "variables": {
                      "ORDER": "A-17"
                    }
                  }
                },
                "agent_user": {
                  "summary": "Ring a ViciDial user's phone",
                  "value": {
                    "agent_user": "agent_001",
                    "phone_number": "8005551234"
                  }
                }
              }
            }
          },
          "description": "A JSON object. The `Content-Type` is not checked; the body is always read as JSON."
        },
        "responses": {
          "202": {
            "description": "Placed (or replayed for the same `Idempotency-Key`). The body is the call as `GET /v1/calls/{id}` shows it; its `status` is `queued` unless the call moved on already.",
            "headers": {
              "Idempotent-Replayed": {
                "$ref": "#/components/headers/IdempotentReplayed"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ClickToCallStatus"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_json`: the body is not a JSON object of the documented fields and types. `invalid_request`: a field breaks its rule (the message names it), or the `Idempotency-Key` header is malformed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`unknown_agent`: `agent_user` has no phone in ViciDial (`vicidial_users.phone_login` to `phones`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`idempotency_key_reused`: the `Idempotency-Key` was used with a different request.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/BodyTooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "502": {
            "description": "`originate_rejected`: Asterisk refused the Originate; the message carries Asterisk's reason.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "description": "`ami_unavailable`: no AMI server is configured for click-to-call, or the chosen one is not logged in or not connected. `database_not_configured` / `database_unavailable`: `agent_user` needs the ViciDial database, which is not configured or did not answer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/calls/{id}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/CallID"
        }
      ],
      "get": {
        "tags": [
          "calls"
        ],
        "operationId": "getCall",
        "summary": "A click-to-call's status",
        "description": "The call as it stands: `queued` -> `agent_ringing` -> `agent_answered` -> `customer_ringing` -> `connected` -> `completed`, or `failed` with a `reason`. Calls are remembered for `click_to_call.status_retention_minutes` (default 1440) and at most `click_to_call.max_remembered_calls`, in memory: after a restart they are gone (their outcome went out as webhooks).",
        "responses": {
          "200": {
            "description": "The call.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ClickToCallStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`not_found`: no call with this id (never placed, forgotten, or placed before a restart).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "description": "`ami_unavailable`: click-to-call is not configured (no AMI server).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      },
      "delete": {
        "tags": [
          "calls"
        ],
        "operationId": "hangUpCall",
        "summary": "Hang up a click-to-call",
        "description": "Sends an AMI `Hangup` for each of the call's live channels (for a call still `queued`, as soon as its first channel appears). The call then ends as it would otherwise (`failed` with a reason, or `completed`); follow it with `GET /v1/calls/{id}`.",
        "responses": {
          "202": {
            "description": "Hangup sent; the body is the call with `hangup_requested: true`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ClickToCallStatus"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`not_found`: no call with this id.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "`call_ended`: the call is `completed` or `failed` already. (A call still `queued`, with no channel yet, is not a 409: the answer is 202 with `hangup_requested: true`, and the hangup goes out as soon as its first channel appears.)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "description": "`ami_unavailable`: click-to-call is not configured, or the call's AMI server is not configured or did not take the Hangup.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/calls/{id}/recording": {
      "get": {
        "tags": [
          "recordings"
        ],
        "operationId": "getCallRecording",
        "summary": "A call's recording",
        "description": "The `recording_log` row whose `vicidial_id` is the call's Asterisk uniqueid (the outbound call's uniqueid, or the inbound call's closecallid), as the webhooks' `uniqueid` gives it. Not a click-to-call id.",
        "parameters": [
          {
            "$ref": "#/components/parameters/Uniqueid"
          }
        ],
        "responses": {
          "200": {
            "description": "The recording.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Recording"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_request`: the uniqueid breaks its rule.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`not_found`: ViciDial has no recording for this uniqueid.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/DatabaseError"
          },
          "503": {
            "$ref": "#/components/responses/DatabaseUnavailable"
          }
        }
      }
    },
    "/v1/agents/{user}": {
      "get": {
        "tags": [
          "agents"
        ],
        "operationId": "getAgent",
        "summary": "An agent's live status and today's totals",
        "description": "Live state from `vicidial_live_agents` (status, campaign, lead on screen, pause code) and today's calls and talk time from `vicidial_agent_log`. A known user who is not logged in is `LOGGED_OUT` with the live fields `null`.",
        "parameters": [
          {
            "$ref": "#/components/parameters/AgentUser"
          }
        ],
        "responses": {
          "200": {
            "description": "The agent.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AgentStatus"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_request`: the user name breaks its rule.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`not_found`: no ViciDial user with this name.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/DatabaseError"
          },
          "503": {
            "$ref": "#/components/responses/DatabaseUnavailable"
          }
        }
      }
    },
    "/v1/recordings": {
      "get": {
        "tags": [
          "recordings"
        ],
        "operationId": "listRecordings",
        "summary": "A customer's recordings",
        "description": "The `recording_log` rows of the leads with this phone number, newest first. A number with a leading `+` and country code also finds leads stored ViciDial's way (`phone_code` + `phone_number`).",
        "parameters": [
          {
            "$ref": "#/components/parameters/PhoneNumberQuery"
          },
          {
            "$ref": "#/components/parameters/Since"
          },
          {
            "$ref": "#/components/parameters/Limit"
          }
        ],
        "responses": {
          "200": {
            "description": "The recordings, newest first (an empty list when there are none).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RecordingList"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_request`: `phone_number` is missing or breaks its rule, or `since` or `limit` does.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/DatabaseError"
          },
          "503": {
            "$ref": "#/components/responses/DatabaseUnavailable"
          }
        }
      }
    },
    "/v1/recordings/{recording_id}/audio": {
      "get": {
        "tags": [
          "recordings"
        ],
        "operationId": "getRecordingAudio",
        "summary": "A recording's audio",
        "description": "The file itself, streamed, when it is on this server: found by the row's `location` (a local path, or the name at the end of the URL ViciDial's archiving wrote) or `filename` plus `.wav`, `.mp3`, `.gsm` or `.ogg`, in `api.recording_directories` and their `MIX`, `MP3`, `ORIG`, `GSM`, `OGG` subdirectories. Nothing outside those directories is ever read: a name with `..`, an absolute path elsewhere or a symlink leading out counts as absent (404). One byte range (`Range: bytes=first-last`, `first-`, `-suffix`) is answered 206; several ranges get the whole file.",
        "parameters": [
          {
            "name": "recording_id",
            "in": "path",
            "required": true,
            "description": "`recording_log.recording_id`, as the recording lists give it.",
            "schema": {
              "type": "string",
              "pattern": "^[1-9][0-9]{0,9}$"
            }
          },
          {
            "name": "Range",
            "in": "header",
            "required": false,
            "description": "One byte range of the file.",
            "schema": {
              "type": "string",
              "example": "bytes=0-1023"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The whole file. `Content-Type` from its extension (`audio/wav`, `audio/mpeg`, `audio/x-gsm`, `audio/ogg`, else `application/octet-stream`); `Accept-Ranges: bytes`.",
            "content": {
              "audio/wav": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "audio/mpeg": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "206": {
            "description": "The byte range asked for, with `Content-Range: bytes first-last/size`.",
            "content": {
              "audio/wav": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "audio/mpeg": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_request`: the recording_id is not a whole number.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`not_found`: no such recording, or its file is not on this server (archived elsewhere, deleted, or outside `api.recording_directories`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "416": {
            "description": "The range starts past the end of the file; `Content-Range: bytes */size`."
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/DatabaseError"
          },
          "503": {
            "$ref": "#/components/responses/DatabaseUnavailable"
          }
        }
      }
    },
    "/v1/leads": {
      "post": {
        "tags": [
          "leads"
        ],
        "operationId": "importLeads",
        "summary": "Import a batch of leads",
        "description": "Inserts leads into `vicidial_list`: a JSON array of lead objects, or CSV with a header row. Every row is checked on its own against its columns; the valid rows are inserted in one transaction and the answer gives each row's outcome in input order. A batch with invalid rows is still a 200: look at `invalid` and `results`.\n\n`vicidial_list` is MyISAM on a stock ViciDial and cannot roll back: if the database fails during the import, the 500/503 `import_failed` message says which `lead_id`s may have been written.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": 10000,
                "items": {
                  "$ref": "#/components/schemas/Lead"
                },
                "description": "Lead objects. An element that is not an object is an invalid row."
              }
            },
            "text/csv": {
              "schema": {
                "type": "string",
                "description": "RFC 4180 CSV (UTF-8, an optional byte order mark, CRLF or LF, quoted fields). The header row names the fields of `Lead` (case and surrounding spaces ignored) and must name `phone_number` and `list_id`; an unknown or repeated column is a 400. Each following record is a row (the header is not one); a record with the wrong number of fields is an invalid row. An empty cell is a field not given."
              },
              "example": "phone_number,list_id,first_name,last_name\n8005551234,101,Ada,Lovelace\n"
            }
          },
          "description": "`Content-Type` `application/json` (also assumed when there is none) or `text/csv`; at most 10,000 rows."
        },
        "responses": {
          "200": {
            "description": "Each row's outcome.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/LeadImportResult"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_request`: the body is not JSON or not an array, is empty, is not valid CSV, or its CSV header is wrong.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "description": "`too_many_rows`: more than 10,000 rows. `body_too_large`: the body is over `api.body_limit_bytes`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "415": {
            "description": "`unsupported_media_type`: a `Content-Type` other than `application/json` or `text/csv`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "description": "`import_failed`: the database refused the insert (e.g. no INSERT grant); the message says what may have been written. `internal_error`: another database error.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "description": "`database_not_configured`: no `vicidial.db`. `database_unavailable`: MariaDB cannot be reached. `import_failed`: the connection was lost during the import; the message says what may have been written.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/": {
      "get": {
        "tags": [
          "status"
        ],
        "operationId": "getStatusPage",
        "summary": "The live status page",
        "description": "One self-contained HTML page (inline style and script, no external asset) that polls `GET /status.json` every second: AMI servers, calls in progress and waiting, the outbox per endpoint, the last deliveries and the dead letters, each with a Retry button (`POST /v1/dead-letters/{delivery_id}/retry`, with an API key typed into the page and kept in the tab's `sessionStorage` only). No key is needed to view it, but it is behind `api.ip_allowlist` like `/metrics`. Answered with a `Content-Security-Policy` that allows only its own style and script (by hash) and requests to the daemon itself.",
        "security": [],
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          }
        }
      }
    },
    "/status.json": {
      "get": {
        "tags": [
          "status"
        ],
        "operationId": "getStatus",
        "summary": "What the status page shows",
        "description": "A snapshot of the daemon, rebuilt at most twice a second (the outbox is counted at most every 2 s), so polling it costs the daemon next to nothing and never waits on ViciDial's database. No key is needed, but it is behind `api.ip_allowlist` like `/metrics`: it names calls, agents' channels and phone numbers, which are masked here (all digits but the last 4; runs of 7 or more digits in channel names and errors) when `log.mask_phone_numbers` is on. Times are seconds since 1970 (with fractions). Lists are bounded: 50 calls of each kind, 50 deliveries, 100 dead letters; the counts are complete.",
        "security": [],
        "responses": {
          "200": {
            "description": "The snapshot.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "503": {
            "description": "`status_unavailable`: this server keeps no status (not the daemon).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/dead-letters/{delivery_id}/retry": {
      "post": {
        "tags": [
          "status"
        ],
        "operationId": "retryDeadLetter",
        "summary": "Send a dead letter again",
        "description": "Puts one dead letter (a delivery the dispatcher gave up on, listed in `GET /status.json` under `dead_letters`) back in the outbox as pending, with a fresh attempt count and age, and wakes the dispatcher: the same as `amibridge outbox retry DELIVERY_ID`. Its `event_id` is unchanged, so a receiver that saw it before can tell.",
        "parameters": [
          {
            "name": "delivery_id",
            "in": "path",
            "required": true,
            "description": "The dead letter's `delivery_id`.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 9223372036854775807
            },
            "example": 42
          }
        ],
        "responses": {
          "200": {
            "description": "Queued again.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DeadLetterRetried"
                }
              }
            }
          },
          "400": {
            "description": "`invalid_request`: `delivery_id` is not a positive integer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "description": "`not_found`: no dead letter has this id (there never was one, or it was retried or delivered since).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "503": {
            "description": "`status_unavailable`: this server keeps no status (not the daemon).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/agc/api.php": {
      "get": {
        "tags": [
          "compat"
        ],
        "operationId": "viciDialAPIGet",
        "summary": "ViciDial agent API compatibility (GET)",
        "description": "For scripts written against ViciDial's `/agc/api.php`: `click2call`, `get_agent_status`, `add_lead`, `version`. Authenticated by the `api_key` (or `pass`) parameter, not a Bearer header; the per-key rate limit applies.",
        "security": [],
        "responses": {
          "200": {
            "description": "Always 200, as ViciDial: `status=SUCCESS&result=<function>&...` (click2call adds `call_id`, `call_status`; get_agent_status answers `status=<the agent's state>` (as scripts written for ViciDial print `$status['status']`) with `agent_user`, `agent_status`, `campaign_id`, `calls_today`, `talk_time` in seconds; add_lead adds `lead_id`; version adds `version`) or `status=ERROR&result=<error code>&message=...`. Values are percent-encoded so PHP's `parse_str` gives them back exactly.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                },
                "example": "status=SUCCESS&result=click2call&call_id=9b2c1f0e-8d7a-4c1b-9e55-3f1a2b3c4d5e&call_status=queued"
              },
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "status",
                    "result"
                  ],
                  "properties": {
                    "status": {
                      "type": "string",
                      "description": "`SUCCESS` or `ERROR`; for get_agent_status the agent's state instead (READY, QUEUE, INCALL, PAUSED, CLOSER, MQUEUE or LOGGED_OUT), as scripts written for ViciDial print it."
                    },
                    "result": {
                      "type": "string"
                    },
                    "message": {
                      "type": "string"
                    }
                  },
                  "additionalProperties": {
                    "type": "string"
                  }
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/BodyTooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          }
        },
        "parameters": [
          {
            "name": "function",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "enum": [
                "click2call",
                "get_agent_status",
                "add_lead",
                "version"
              ]
            },
            "description": "What to do."
          },
          {
            "name": "user",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string"
            },
            "description": "Required as in ViciDial; logged, not trusted."
          },
          {
            "name": "api_key",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "An amibridge API key (`amibridge keys create`). `pass` is read the same way, so scripts written for ViciDial change only the value."
          },
          {
            "name": "pass",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "Same as `api_key`."
          },
          {
            "name": "format",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "text",
                "json"
              ]
            },
            "description": "`json`: the same fields as a JSON object instead of `parse_str` text."
          },
          {
            "name": "agent_user",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "click2call, get_agent_status: the ViciDial user."
          },
          {
            "name": "phone_number",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "click2call, add_lead: 7-15 digits, optional leading +; spaces, dashes, dots and parentheses are ignored."
          },
          {
            "name": "campaign_id",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "click2call."
          },
          {
            "name": "list_id",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "click2call (numeric; carried into the call's webhooks); add_lead (default 999, as ViciDial)."
          },
          {
            "name": "lead_id",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "click2call: the lead, for ViciDial's M caller code."
          },
          {
            "name": "caller_id_number",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "click2call: the number the customer sees."
          }
        ]
      },
      "post": {
        "tags": [
          "compat"
        ],
        "operationId": "viciDialAPIPost",
        "summary": "ViciDial agent API compatibility (POST)",
        "description": "For scripts written against ViciDial's `/agc/api.php`: `click2call`, `get_agent_status`, `add_lead`, `version`. Authenticated by the `api_key` (or `pass`) parameter, not a Bearer header; the per-key rate limit applies. The same parameters as a form body (`application/x-www-form-urlencoded`); query parameters win when both name one.",
        "security": [],
        "responses": {
          "200": {
            "description": "Always 200, as ViciDial: `status=SUCCESS&result=<function>&...` (click2call adds `call_id`, `call_status`; get_agent_status answers `status=<the agent's state>` (as scripts written for ViciDial print `$status['status']`) with `agent_user`, `agent_status`, `campaign_id`, `calls_today`, `talk_time` in seconds; add_lead adds `lead_id`; version adds `version`) or `status=ERROR&result=<error code>&message=...`. Values are percent-encoded so PHP's `parse_str` gives them back exactly.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                },
                "example": "status=SUCCESS&result=click2call&call_id=9b2c1f0e-8d7a-4c1b-9e55-3f1a2b3c4d5e&call_status=queued"
              },
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "status",
                    "result"
                  ],
                  "properties": {
                    "status": {
                      "type": "string",
                      "description": "`SUCCESS` or `ERROR`; for get_agent_status the agent's state instead (READY, QUEUE, INCALL, PAUSED, CLOSER, MQUEUE or LOGGED_OUT), as scripts written for ViciDial print it."
                    },
                    "result": {
                      "type": "string"
                    },
                    "message": {
                      "type": "string"
                    }
                  },
                  "additionalProperties": {
                    "type": "string"
                  }
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/BodyTooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          }
        },
        "requestBody": {
          "required": false,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "additionalProperties": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "amib_<12 hex id>_<64 hex secret>",
        "description": "An API key from `amibridge keys create` (shown once, stored hashed)."
      }
    },
    "parameters": {
      "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a retried POST safe: see the operation. Per API key.",
        "schema": {
          "type": "string",
          "minLength": 1,
          "maxLength": 255,
          "pattern": "^[!-~]{1,255}$",
          "description": "1 to 255 printable ASCII characters, no spaces."
        },
        "example": "order-42"
      },
      "CallID": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "The `call_id` that `POST /v1/calls` answered.",
        "schema": {
          "type": "string",
          "minLength": 1
        },
        "example": "3f2b8c1e-5d4a-4f0e-9b7a-2c6d8e1f0a9b"
      },
      "Uniqueid": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "An Asterisk uniqueid (`epoch.sequence`, with the system name in front when one is set).",
        "schema": {
          "type": "string",
          "pattern": "^[A-Za-z0-9._-]{1,40}$"
        },
        "example": "1768487520.123"
      },
      "AgentUser": {
        "name": "user",
        "in": "path",
        "required": true,
        "description": "A ViciDial user name (percent-encoded in the path where needed; matched case-insensitively, as ViciDial does).",
        "schema": {
          "$ref": "#/components/schemas/ViciDialUser"
        },
        "example": "agent_001"
      },
      "PhoneNumberQuery": {
        "name": "phone_number",
        "in": "query",
        "required": true,
        "description": "The customer's number.",
        "schema": {
          "$ref": "#/components/schemas/PhoneNumberInput"
        },
        "example": "+1 (800) 555-1234"
      },
      "Since": {
        "name": "since",
        "in": "query",
        "required": false,
        "description": "Only recordings that started at or after this time. A date (`2026-01-15`, from midnight) or a date and time (`2026-01-15T14:32`, `2026-01-15T14:32:05.123`, a space may stand for the `T`) are in the ViciDial database's local time, the clock ViciDial writes; with `Z` or an offset (`+02:00`, `+0200`, `+02`) they are that instant. Impossible dates and times are a 400.",
        "schema": {
          "type": "string",
          "pattern": "^([1-9][0-9]{3}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|([1-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[13579][26])00)-02-29)([Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]{1,9})?)?([Zz]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?)?$"
        },
        "example": "2026-01-15T14:32:00Z"
      },
      "Limit": {
        "name": "limit",
        "in": "query",
        "required": false,
        "description": "At most this many recordings.",
        "schema": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000,
          "default": 100
        }
      }
    },
    "headers": {
      "RetryAfter": {
        "description": "Seconds until the key has a request again.",
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "WWWAuthenticate": {
        "description": "Always `Bearer`.",
        "schema": {
          "type": "string",
          "const": "Bearer"
        }
      },
      "IdempotentReplayed": {
        "description": "`true` when the answer is the call an earlier request with the same `Idempotency-Key` placed; absent otherwise.",
        "schema": {
          "type": "string",
          "const": "true"
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "additionalProperties": false,
        "description": "Every error answer.",
        "properties": {
          "error": {
            "type": "object",
            "required": [
              "code",
              "message"
            ],
            "additionalProperties": false,
            "properties": {
              "code": {
                "type": "string",
                "description": "Stable, for programs. Each operation lists the codes it answers; shared ones: `invalid_request`, `unauthorized`, `forbidden`, `not_found`, `body_too_large`, `rate_limited`, `internal_error`. The list may grow.",
                "example": "invalid_request"
              },
              "message": {
                "type": "string",
                "description": "For people; may change.",
                "example": "phone_number: must be 7 to 15 digits with an optional leading +; spaces, dashes, dots and parentheses are ignored"
              }
            }
          }
        }
      },
      "Health": {
        "type": "object",
        "required": [
          "status"
        ],
        "additionalProperties": false,
        "properties": {
          "status": {
            "type": "string",
            "const": "ok"
          }
        }
      },
      "Readiness": {
        "type": "object",
        "required": [
          "status",
          "checks"
        ],
        "additionalProperties": false,
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ready",
              "not_ready"
            ]
          },
          "checks": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ReadinessCheck"
            }
          }
        }
      },
      "ReadinessCheck": {
        "type": "object",
        "required": [
          "name",
          "state"
        ],
        "additionalProperties": false,
        "properties": {
          "name": {
            "type": "string",
            "description": "The dependency, e.g. `ami:dialer1`, `vicidial_db`, `state_dir`."
          },
          "state": {
            "type": "string",
            "enum": [
              "ready",
              "not_ready"
            ]
          },
          "reason": {
            "type": "string",
            "description": "Why it is not ready. Present only when `state` is `not_ready`."
          }
        }
      },
      "Pong": {
        "type": "object",
        "required": [
          "pong",
          "key"
        ],
        "additionalProperties": false,
        "properties": {
          "pong": {
            "type": "boolean",
            "const": true
          },
          "key": {
            "type": "string",
            "description": "The id of the API key used (the part after `amib_`).",
            "example": "a1b2c3d4e5f6"
          }
        }
      },
      "PhoneNumberInput": {
        "type": "string",
        "description": "Digits with an optional leading `+`; 7 to 15 digits once spaces, dashes, dots and parentheses are removed. Nothing else.",
        "pattern": "^[ .()-]*(\\+[ .()-]*)?([0-9][ .()-]*){7,15}$",
        "example": "+1 (800) 555-1234"
      },
      "ViciDialUser": {
        "type": "string",
        "description": "1 to 20 ASCII letters, digits, `_`, `-`, `.` or `@` (`vicidial_users.user`).",
        "pattern": "^[A-Za-z0-9_.@-]{1,20}$"
      },
      "CallStatus": {
        "type": "string",
        "enum": [
          "queued",
          "agent_ringing",
          "agent_answered",
          "customer_ringing",
          "connected",
          "completed",
          "failed"
        ],
        "description": "`queued`: Originate sent, no channel yet. `agent_ringing`, `agent_answered`: the agent's phone. `customer_ringing`, `connected`: the customer's leg. `completed`: ended after the customer answered. `failed`: ended without a conversation (see `reason`). `completed` and `failed` are final."
      },
      "FailureReason": {
        "type": "string",
        "enum": [
          "agent_busy",
          "agent_no_answer",
          "customer_busy",
          "customer_no_answer",
          "congestion",
          "originate_error",
          "not_dialed",
          "timeout"
        ],
        "description": "Why a call failed. `not_dialed`: the agent hung up before the customer was dialed. `timeout`: no OriginateResponse within `click_to_call.response_timeout_seconds`."
      },
      "ClickToCallRequest": {
        "type": "object",
        "required": [
          "phone_number"
        ],
        "description": "Exactly one of `agent_user` or `agent_phone` is required (both: 400). Unknown fields are ignored; `null` is the same as a field left out.",
        "oneOf": [
          {
            "required": [
              "agent_user"
            ],
            "properties": {
              "agent_user": {
                "type": "string"
              }
            }
          },
          {
            "required": [
              "agent_phone"
            ],
            "properties": {
              "agent_phone": {
                "type": "string"
              }
            }
          }
        ],
        "properties": {
          "agent_user": {
            "type": [
              "string",
              "null"
            ],
            "allOf": [
              {
                "pattern": "^[A-Za-z0-9_.@-]{1,20}$"
              }
            ],
            "description": "A ViciDial user (1 to 20 ASCII letters, digits, `_`, `-`, `.` or `@`, as `vicidial_users.user`); the call rings the phone ViciDial gives it (`vicidial_users.phone_login` to `phones`) on that phone's server. Needs `vicidial.db`.",
            "example": "agent_001"
          },
          "agent_phone": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 80,
            "pattern": "^([A-Za-z0-9]+/[A-Za-z0-9_.@/-]+|[A-Za-z0-9_.-]{1,40})$",
            "description": "A channel (`SIP/1001`, `PJSIP/agent7`, `Local/1001@agents`; at most 80 characters) or a bare extension (1 to 40 letters, digits, `_`, `-`, `.`) put into `click_to_call.agent_channel`.",
            "example": "SIP/1001"
          },
          "phone_number": {
            "allOf": [
              {
                "$ref": "#/components/schemas/PhoneNumberInput"
              }
            ],
            "description": "The customer's number; dialed as its digits after `click_to_call.dial_prefix`."
          },
          "campaign_id": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^[A-Za-z0-9_.@-]{1,20}$",
            "description": "The ViciDial campaign, carried into the call's status and webhooks.",
            "example": "SALES"
          },
          "lead_id": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "maximum": 9999999999,
            "description": "The ViciDial lead; its `M` caller code becomes the caller ID name, and ViciDial may log the call under it: only a call with a `lead_id` waits for its `vicidial_log` row.",
            "example": 4242
          },
          "list_id": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "maximum": 99999999999999,
            "description": "The ViciDial list, carried into the call's webhooks (a ViciDial row, when one comes, wins).",
            "example": 101
          },
          "caller_id": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^\\+?[0-9]{2,20}$",
            "description": "The number the customer sees, instead of `click_to_call.caller_id`.",
            "example": "3125551212"
          },
          "variables": {
            "type": [
              "object",
              "null"
            ],
            "maxProperties": 20,
            "description": "Channel variables set on the call: at most 20; names are a letter or `_` then letters, digits or `_` (at most 64), not `CRM_CALL_ID` in any case; values at most 256 bytes of UTF-8 without control characters, commas, double quotes or backslashes (Asterisk splits an Originate's variables at them).",
            "propertyNames": {
              "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$",
              "not": {
                "pattern": "^[Cc][Rr][Mm]_[Cc][Aa][Ll][Ll]_[Ii][Dd]$"
              }
            },
            "additionalProperties": {
              "type": "string",
              "maxLength": 256,
              "pattern": "^[^\\u0000-\\u001F\\u007F,\"\\\\]*$"
            },
            "example": {
              "ORDER": "A-17"
            }
          }
        }
      },
      "ClickToCallStatus": {
        "type": "object",
        "additionalProperties": false,
        "description": "One click-to-call. Every key is always present; unknown values are `null`.",
        "required": [
          "call_id",
          "status",
          "reason",
          "agent_user",
          "agent_channel",
          "phone_number",
          "campaign_id",
          "lead_id",
          "server",
          "uniqueid",
          "linkedid",
          "hangup_cause",
          "hangup_cause_text",
          "disposition",
          "ring_seconds",
          "talk_seconds",
          "created_at",
          "updated_at",
          "ended_at",
          "stages",
          "hangup_requested"
        ],
        "properties": {
          "call_id": {
            "type": "string",
            "format": "uuid",
            "description": "The call's id; also the `CRM_CALL_ID` channel variable and the webhooks' `click2call_id`.",
            "example": "3f2b8c1e-5d4a-4f0e-9b7a-2c6d8e1f0a9b"
          },
          "status": {
            "$ref": "#/components/schemas/CallStatus"
          },
          "reason": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/FailureReason"
              },
              {
                "type": "null"
              }
            ],
            "description": "Why the call failed; `null` unless `status` is `failed` (and `null` there when the cause is unknown)."
          },
          "agent_user": {
            "type": [
              "string",
              "null"
            ],
            "description": "The `agent_user` of the request; `null` when `agent_phone` was given."
          },
          "agent_channel": {
            "type": "string",
            "description": "The channel the Originate rang.",
            "example": "SIP/1001"
          },
          "phone_number": {
            "type": "string",
            "pattern": "^\\+?[0-9]{7,15}$",
            "description": "The customer's number as given, without separators.",
            "example": "18005551234"
          },
          "campaign_id": {
            "type": [
              "string",
              "null"
            ]
          },
          "lead_id": {
            "type": [
              "integer",
              "null"
            ]
          },
          "server": {
            "type": "string",
            "description": "The AMI server the call was placed on (`ami` server name).",
            "example": "dialer1"
          },
          "uniqueid": {
            "type": [
              "string",
              "null"
            ],
            "description": "The customer leg's Asterisk uniqueid (the agent leg's until the customer is dialed)."
          },
          "linkedid": {
            "type": [
              "string",
              "null"
            ],
            "description": "The Asterisk linkedid shared by the call's channels."
          },
          "hangup_cause": {
            "type": [
              "integer",
              "null"
            ],
            "description": "Q.850 cause of the customer leg (else the agent leg).",
            "example": 16
          },
          "hangup_cause_text": {
            "type": [
              "string",
              "null"
            ],
            "example": "Normal Clearing"
          },
          "disposition": {
            "type": [
              "string",
              "null"
            ],
            "description": "The agent's ViciDial disposition, once set.",
            "example": "SALE"
          },
          "ring_seconds": {
            "type": [
              "integer",
              "null"
            ]
          },
          "talk_seconds": {
            "type": [
              "integer",
              "null"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time",
            "description": "UTC with milliseconds.",
            "example": "2026-01-15T14:32:00.123Z"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          },
          "ended_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time",
            "description": "When the call reached `completed` or `failed`."
          },
          "stages": {
            "type": "object",
            "description": "When each stage was first reached, by stage name (UTC with milliseconds).",
            "propertyNames": {
              "$ref": "#/components/schemas/CallStatus"
            },
            "additionalProperties": {
              "type": "string",
              "format": "date-time"
            },
            "example": {
              "queued": "2026-01-15T14:32:00.123Z",
              "agent_ringing": "2026-01-15T14:32:00.301Z"
            }
          },
          "hangup_requested": {
            "type": "boolean",
            "description": "`DELETE /v1/calls/{id}` was called."
          }
        }
      },
      "AgentStatus": {
        "type": "object",
        "additionalProperties": false,
        "description": "Every key is always present; the live fields are `null` when the agent is not logged in (or ViciDial has no value).",
        "required": [
          "user",
          "full_name",
          "status",
          "logged_in",
          "campaign_id",
          "lead_id",
          "pause_code",
          "calls_today",
          "last_state_change",
          "server_ip",
          "phone",
          "today"
        ],
        "properties": {
          "user": {
            "type": "string",
            "description": "As ViciDial stores it."
          },
          "full_name": {
            "type": [
              "string",
              "null"
            ]
          },
          "status": {
            "type": "string",
            "description": "The live status (`READY`, `QUEUE`, `INCALL`, `PAUSED`, `CLOSER`, `MQUEUE`, ...) or `LOGGED_OUT`.",
            "example": "INCALL"
          },
          "logged_in": {
            "type": "boolean"
          },
          "campaign_id": {
            "type": [
              "string",
              "null"
            ]
          },
          "lead_id": {
            "type": [
              "integer",
              "null"
            ],
            "description": "The lead on the agent's screen."
          },
          "pause_code": {
            "type": [
              "string",
              "null"
            ]
          },
          "calls_today": {
            "type": [
              "integer",
              "null"
            ],
            "description": "ViciDial's own counter of the session's calls (`vicidial_live_agents.calls_today`); see `today.calls` for the log's count."
          },
          "last_state_change": {
            "type": [
              "string",
              "null"
            ],
            "description": "`YYYY-MM-DD HH:MM:SS` in the database server's local time.",
            "example": "2026-01-15 14:32:00"
          },
          "server_ip": {
            "type": [
              "string",
              "null"
            ]
          },
          "phone": {
            "type": [
              "string",
              "null"
            ],
            "description": "The agent's phone as ViciDial dials it.",
            "example": "SIP/2001"
          },
          "today": {
            "type": "object",
            "required": [
              "date",
              "calls",
              "talk_seconds"
            ],
            "additionalProperties": false,
            "properties": {
              "date": {
                "type": "string",
                "format": "date",
                "description": "The database server's date that the totals cover."
              },
              "calls": {
                "type": "integer",
                "description": "Calls handled today (`vicidial_agent_log` rows with a lead)."
              },
              "talk_seconds": {
                "type": "integer",
                "description": "Talk time today without dead time (`talk_sec - dead_sec`)."
              }
            }
          }
        }
      },
      "Recording": {
        "type": "object",
        "additionalProperties": false,
        "description": "One `recording_log` row. Every key is always present. Times are `YYYY-MM-DD HH:MM:SS` in the ViciDial server's local time.",
        "required": [
          "recording_id",
          "filename",
          "location",
          "start_time",
          "end_time",
          "length_in_sec",
          "lead_id",
          "user",
          "uniqueid",
          "phone_number",
          "call_date"
        ],
        "properties": {
          "recording_id": {
            "type": "integer"
          },
          "filename": {
            "type": [
              "string",
              "null"
            ]
          },
          "location": {
            "type": [
              "string",
              "null"
            ],
            "description": "Where the file is; an HTTP URL once ViciDial's archiving has moved it."
          },
          "start_time": {
            "type": [
              "string",
              "null"
            ],
            "example": "2026-01-15 14:32:00"
          },
          "end_time": {
            "type": [
              "string",
              "null"
            ]
          },
          "length_in_sec": {
            "type": [
              "integer",
              "null"
            ]
          },
          "lead_id": {
            "type": [
              "integer",
              "null"
            ]
          },
          "user": {
            "type": [
              "string",
              "null"
            ],
            "description": "The agent."
          },
          "uniqueid": {
            "type": [
              "string",
              "null"
            ],
            "description": "`vicidial_id`: the outbound call's uniqueid, or the inbound call's closecallid."
          },
          "phone_number": {
            "type": [
              "string",
              "null"
            ],
            "description": "The lead's number (`vicidial_list.phone_number`, without its `phone_code`)."
          },
          "call_date": {
            "type": [
              "string",
              "null"
            ],
            "description": "The call's `call_date` (`vicidial_log`, or `vicidial_closer_log` for inbound); the recording's start when ViciDial has no row for the call.",
            "example": "2026-01-15 14:32:00"
          }
        }
      },
      "RecordingList": {
        "type": "object",
        "required": [
          "recordings"
        ],
        "additionalProperties": false,
        "properties": {
          "recordings": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Recording"
            }
          }
        }
      },
      "Lead": {
        "type": "object",
        "required": [
          "phone_number",
          "list_id"
        ],
        "additionalProperties": false,
        "description": "A row for `vicidial_list`. Every field may be a string or a number (numbers are read as written, `101` as `101`); `null` or `\"\"` is a field not given. Surrounding spaces are ignored in numbers and codes, kept in text. Booleans, arrays, objects, unknown field names and values that do not fit their column make the row invalid (reported in its result, not a 400). Text fields refuse control characters (CR, LF, tab, NUL...). Fields not given get ViciDial's defaults.",
        "properties": {
          "phone_number": {
            "type": [
              "string",
              "number"
            ],
            "description": "Digits with an optional leading `+`, 7 to 15 digits once spaces, dashes, dots and parentheses are removed. With `+`, the number must begin with `phone_code`, which is split off."
          },
          "list_id": {
            "type": [
              "integer",
              "string"
            ],
            "minimum": 100,
            "maximum": 99999999999999,
            "description": "A whole number from 100 to 99999999999999."
          },
          "status": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "pattern": "^[A-Za-z0-9_-]{1,6}$",
            "default": "NEW",
            "description": "1 to 6 letters, digits, `_` or `-`."
          },
          "user": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 20
          },
          "vendor_lead_code": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 20
          },
          "source_id": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 50
          },
          "gmt_offset_now": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "description": "Hours east of GMT from -12 to 14, at most two decimals.",
            "default": "0.00"
          },
          "phone_code": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "description": "At most 4 digits (`+`, spaces, dashes, dots, parentheses ignored).",
            "default": "1"
          },
          "title": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 4
          },
          "first_name": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 30
          },
          "middle_initial": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 1
          },
          "last_name": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 30
          },
          "address1": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 100
          },
          "address2": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 100
          },
          "address3": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 100
          },
          "city": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 50
          },
          "state": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 2
          },
          "province": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 50
          },
          "postal_code": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 10
          },
          "country_code": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 3
          },
          "gender": {
            "type": [
              "string",
              "null"
            ],
            "description": "Case is ignored.",
            "enum": [
              "M",
              "F",
              "U",
              "m",
              "f",
              "u",
              null
            ],
            "default": "U"
          },
          "date_of_birth": {
            "type": [
              "string",
              "null"
            ],
            "format": "date",
            "description": "`YYYY-MM-DD`, a real calendar day."
          },
          "alt_phone": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "description": "At most 12 digits (`+`, spaces, dashes, dots, parentheses ignored)."
          },
          "email": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 70
          },
          "security_phrase": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 100
          },
          "comments": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 255
          },
          "rank": {
            "type": [
              "integer",
              "string",
              "null"
            ],
            "description": "A whole number from -32768 to 32767.",
            "minimum": -32768,
            "maximum": 32767,
            "default": 0
          },
          "owner": {
            "type": [
              "string",
              "number",
              "null"
            ],
            "maxLength": 20
          }
        }
      },
      "FieldError": {
        "type": "object",
        "required": [
          "field",
          "message"
        ],
        "additionalProperties": false,
        "properties": {
          "field": {
            "type": "string",
            "description": "The field, or `row` for a problem with the row as a whole."
          },
          "message": {
            "type": "string"
          }
        }
      },
      "LeadRowInserted": {
        "type": "object",
        "required": [
          "row",
          "status",
          "lead_id"
        ],
        "additionalProperties": false,
        "properties": {
          "row": {
            "type": "integer",
            "minimum": 1,
            "description": "The row's position in the input, from 1 (a CSV header is not a row)."
          },
          "status": {
            "type": "string",
            "const": "inserted"
          },
          "lead_id": {
            "type": "integer",
            "description": "The new lead's `vicidial_list.lead_id`."
          }
        }
      },
      "LeadRowInvalid": {
        "type": "object",
        "required": [
          "row",
          "status",
          "errors"
        ],
        "additionalProperties": false,
        "properties": {
          "row": {
            "type": "integer",
            "minimum": 1
          },
          "status": {
            "type": "string",
            "const": "invalid"
          },
          "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
              "$ref": "#/components/schemas/FieldError"
            },
            "description": "Every problem of the row."
          }
        }
      },
      "LeadImportResult": {
        "type": "object",
        "required": [
          "results",
          "inserted",
          "invalid"
        ],
        "additionalProperties": false,
        "properties": {
          "results": {
            "type": "array",
            "description": "One entry per input row, in input order. `lead_id` appears only on inserted rows and `errors` only on invalid ones.",
            "items": {
              "oneOf": [
                {
                  "$ref": "#/components/schemas/LeadRowInserted"
                },
                {
                  "$ref": "#/components/schemas/LeadRowInvalid"
                }
              ]
            }
          },
          "inserted": {
            "type": "integer",
            "minimum": 0
          },
          "invalid": {
            "type": "integer",
            "minimum": 0
          }
        }
      },
      "Status": {
        "type": "object",
        "required": [
          "generated_at",
          "phone_numbers_masked",
          "ami_servers",
          "calls_in_progress",
          "calls_waiting",
          "endpoints",
          "recent_deliveries",
          "dead_letters",
          "event_log"
        ],
        "additionalProperties": false,
        "description": "What `GET /status.json` answers.",
        "properties": {
          "generated_at": {
            "type": "number",
            "description": "When this snapshot was built."
          },
          "phone_numbers_masked": {
            "type": "boolean",
            "description": "`log.mask_phone_numbers`: numbers below are masked."
          },
          "ami_servers": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/StatusAMIServer"
            }
          },
          "calls_in_progress": {
            "type": "object",
            "required": [
              "count",
              "calls"
            ],
            "additionalProperties": false,
            "properties": {
              "count": {
                "type": "integer",
                "minimum": 0,
                "description": "Calls followed right now."
              },
              "calls": {
                "type": "array",
                "maxItems": 50,
                "description": "The oldest first.",
                "items": {
                  "$ref": "#/components/schemas/StatusCall"
                }
              }
            }
          },
          "calls_waiting": {
            "type": "object",
            "required": [
              "vicidial_row",
              "disposition",
              "calls"
            ],
            "additionalProperties": false,
            "properties": {
              "vicidial_row": {
                "type": "integer",
                "minimum": 0,
                "description": "Completed calls waiting for their `vicidial_log`/`vicidial_closer_log` row."
              },
              "disposition": {
                "type": "integer",
                "minimum": 0,
                "description": "Joined calls waiting for the agent's disposition."
              },
              "calls": {
                "type": "array",
                "maxItems": 50,
                "description": "The nearest deadline first.",
                "items": {
                  "$ref": "#/components/schemas/StatusWaitingCall"
                }
              }
            }
          },
          "endpoints": {
            "type": "array",
            "description": "Each webhook endpoint configured or with rows in the outbox.",
            "items": {
              "$ref": "#/components/schemas/StatusEndpoint"
            }
          },
          "recent_deliveries": {
            "type": "array",
            "maxItems": 50,
            "description": "The dispatcher's last attempts, newest first.",
            "items": {
              "$ref": "#/components/schemas/StatusDelivery"
            }
          },
          "dead_letters": {
            "type": "object",
            "required": [
              "count",
              "letters"
            ],
            "additionalProperties": false,
            "properties": {
              "count": {
                "type": "integer",
                "minimum": 0,
                "description": "Dead letters in the outbox, every endpoint."
              },
              "letters": {
                "type": "array",
                "maxItems": 100,
                "description": "The oldest first.",
                "items": {
                  "$ref": "#/components/schemas/StatusDeadLetter"
                }
              }
            }
          },
          "event_log": {
            "oneOf": [
              {
                "type": "null"
              },
              {
                "$ref": "#/components/schemas/StatusEventLog"
              }
            ],
            "description": "The event log on NATS JetStream; null unless `nats.urls` is set."
          }
        }
      },
      "StatusAMIServer": {
        "type": "object",
        "required": [
          "name",
          "connected",
          "state",
          "since",
          "events_per_second",
          "error"
        ],
        "additionalProperties": false,
        "properties": {
          "name": {
            "type": "string"
          },
          "connected": {
            "type": "boolean",
            "description": "Logged in."
          },
          "state": {
            "type": "string",
            "enum": [
              "logged_in",
              "connecting",
              "disconnected"
            ]
          },
          "since": {
            "type": "number",
            "description": "Logged in since, or not logged in since (the login was lost, or the daemon started)."
          },
          "events_per_second": {
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "description": "Events read per second since the previous reading (at least a second ago); null at the first."
          },
          "error": {
            "type": [
              "string",
              "null"
            ],
            "description": "Why the last connection ended, while disconnected."
          }
        }
      },
      "StatusCall": {
        "type": "object",
        "required": [
          "server",
          "linkedid",
          "call_id",
          "started_at",
          "age_seconds",
          "answered",
          "agent",
          "phone_number"
        ],
        "additionalProperties": false,
        "properties": {
          "server": {
            "type": "string"
          },
          "linkedid": {
            "type": "string"
          },
          "call_id": {
            "type": [
              "string",
              "null"
            ],
            "description": "The click-to-call id, for calls placed by `POST /v1/calls`."
          },
          "started_at": {
            "type": "number",
            "description": "The call's first channel."
          },
          "age_seconds": {
            "type": "integer",
            "minimum": 0,
            "description": "Since `started_at`."
          },
          "answered": {
            "type": "boolean"
          },
          "agent": {
            "type": [
              "string",
              "null"
            ],
            "description": "The agent's channel (`SIP/1001-0000000a`) when the call has an agent leg."
          },
          "phone_number": {
            "type": [
              "string",
              "null"
            ],
            "description": "The customer's number; masked when `phone_numbers_masked`."
          }
        }
      },
      "StatusWaitingCall": {
        "type": "object",
        "required": [
          "server",
          "linkedid",
          "call_id",
          "waiting_for",
          "since",
          "deadline",
          "agent",
          "phone_number"
        ],
        "additionalProperties": false,
        "properties": {
          "server": {
            "type": "string"
          },
          "linkedid": {
            "type": "string"
          },
          "call_id": {
            "type": [
              "string",
              "null"
            ],
            "description": "The click-to-call id, for calls placed by `POST /v1/calls`."
          },
          "waiting_for": {
            "type": "string",
            "enum": [
              "vicidial_row",
              "disposition"
            ]
          },
          "since": {
            "type": [
              "number",
              "null"
            ],
            "description": "When the wait began; null for a call resumed at the daemon's start."
          },
          "deadline": {
            "type": "number",
            "description": "When the wait is given up."
          },
          "agent": {
            "type": [
              "string",
              "null"
            ],
            "description": "The agent's channel (`SIP/1001-0000000a`) when the call has an agent leg."
          },
          "phone_number": {
            "type": [
              "string",
              "null"
            ],
            "description": "The customer's number; masked when `phone_numbers_masked`."
          }
        }
      },
      "StatusEndpoint": {
        "type": "object",
        "required": [
          "name",
          "owed",
          "pending",
          "in_flight",
          "waiting_to_retry",
          "dead"
        ],
        "additionalProperties": false,
        "properties": {
          "name": {
            "type": "string"
          },
          "owed": {
            "type": "integer",
            "minimum": 0,
            "description": "Deliveries still owed: pending, in flight and waiting to retry."
          },
          "pending": {
            "type": "integer",
            "minimum": 0,
            "description": "Due or new."
          },
          "in_flight": {
            "type": "integer",
            "minimum": 0,
            "description": "Being sent."
          },
          "waiting_to_retry": {
            "type": "integer",
            "minimum": 0,
            "description": "Failed, to be tried again."
          },
          "dead": {
            "type": "integer",
            "minimum": 0,
            "description": "Given up (dead letters)."
          }
        }
      },
      "StatusDelivery": {
        "type": "object",
        "required": [
          "delivery_id",
          "event_id",
          "event",
          "endpoint",
          "result",
          "status",
          "request_ms",
          "latency_ms",
          "at",
          "error"
        ],
        "additionalProperties": false,
        "properties": {
          "delivery_id": {
            "type": "integer",
            "minimum": 1
          },
          "event_id": {
            "type": "string",
            "format": "uuid"
          },
          "event": {
            "type": "string",
            "description": "The webhook event (`call_complete`, ...)."
          },
          "endpoint": {
            "type": "string"
          },
          "result": {
            "type": "string",
            "enum": [
              "delivered",
              "retry",
              "dead"
            ]
          },
          "status": {
            "type": [
              "integer",
              "null"
            ],
            "description": "The endpoint's HTTP status; null when none answered."
          },
          "request_ms": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "description": "The request, sent to answered; null when none was sent."
          },
          "latency_ms": {
            "type": "integer",
            "minimum": 0,
            "description": "From the event entering the outbox to this attempt's end, retries included."
          },
          "at": {
            "type": "number",
            "description": "When the attempt ended."
          },
          "error": {
            "type": [
              "string",
              "null"
            ],
            "description": "Why it failed; null when delivered."
          }
        }
      },
      "StatusDeadLetter": {
        "type": "object",
        "required": [
          "delivery_id",
          "event_id",
          "event",
          "endpoint",
          "call_key",
          "attempts",
          "created_at",
          "last_status",
          "last_error"
        ],
        "additionalProperties": false,
        "properties": {
          "delivery_id": {
            "type": "integer",
            "minimum": 1,
            "description": "For `POST /v1/dead-letters/{delivery_id}/retry`."
          },
          "event_id": {
            "type": "string",
            "format": "uuid"
          },
          "event": {
            "type": "string"
          },
          "endpoint": {
            "type": "string"
          },
          "call_key": {
            "type": "string",
            "description": "`server/linkedid` (or `server/click2call_id`) of the call it is about."
          },
          "attempts": {
            "type": "integer",
            "minimum": 0,
            "description": "Attempts made before it was given up."
          },
          "created_at": {
            "type": "number",
            "description": "When the event entered the outbox (or was last retried)."
          },
          "last_status": {
            "type": [
              "integer",
              "null"
            ],
            "description": "The last answer's HTTP status; null when none came."
          },
          "last_error": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "DeadLetterRetried": {
        "type": "object",
        "required": [
          "delivery_id",
          "retried"
        ],
        "additionalProperties": false,
        "properties": {
          "delivery_id": {
            "type": "integer",
            "minimum": 1
          },
          "retried": {
            "type": "boolean",
            "const": true
          }
        }
      },
      "StatusEventLog": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "connected",
          "server",
          "stream",
          "published",
          "duplicates",
          "failures",
          "pending",
          "last_published_at",
          "last_error"
        ],
        "properties": {
          "connected": {
            "type": "boolean",
            "description": "A NATS server is connected."
          },
          "server": {
            "type": [
              "string",
              "null"
            ],
            "description": "The server connected to, while connected."
          },
          "stream": {
            "type": "string"
          },
          "published": {
            "type": "integer",
            "minimum": 0,
            "description": "Publishes the stream acknowledged as stored, since start."
          },
          "duplicates": {
            "type": "integer",
            "minimum": 0,
            "description": "Publishes acknowledged as already stored (another bridge first), since start."
          },
          "failures": {
            "type": "integer",
            "minimum": 0,
            "description": "Failed publishes (retried), since start."
          },
          "pending": {
            "type": "integer",
            "minimum": 0,
            "description": "Events in the outbox not yet acknowledged by the stream."
          },
          "last_published_at": {
            "type": [
              "number",
              "null"
            ]
          },
          "last_error": {
            "type": [
              "string",
              "null"
            ],
            "description": "The last publish's error; null once one succeeds again."
          }
        }
      }
    },
    "responses": {
      "Unauthorized": {
        "description": "`unauthorized`: no `Authorization: Bearer` key, or a malformed, unknown or revoked one.",
        "headers": {
          "WWW-Authenticate": {
            "$ref": "#/components/headers/WWWAuthenticate"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Forbidden": {
        "description": "`forbidden`: the client address is outside `api.ip_allowlist`, or the browser `Origin` is outside `api.cors_origins`.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooManyRequests": {
        "description": "`rate_limited`: the key has used its `api.rate_limit_per_minute` requests.",
        "headers": {
          "Retry-After": {
            "$ref": "#/components/headers/RetryAfter"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "BodyTooLarge": {
        "description": "`body_too_large`: the request body is over `api.body_limit_bytes`.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "DatabaseUnavailable": {
        "description": "`database_not_configured`: no `vicidial.db` is configured. `database_unavailable`: MariaDB cannot be reached.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "DatabaseError": {
        "description": "`internal_error`: the database answered with an error (details in the daemon's log).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    }
  }
}

"""##

    /// The body of `GET /openapi.json`, built once.
    static let body = ByteBuffer(string: text)

    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: body))
    }
}
