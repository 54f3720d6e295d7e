#!/bin/bash
# The tutorial's click-to-call script: rings the agent's phone, then dials the customer.
# Usage: ./click2call.sh AGENT PHONE
# (Kept as the tutorial wrote it; TutorialScriptsTests replaces only VICI_HOST and API_PASS.)
VICI_HOST="http://vicidial.example.com"
API_USER="apiuser"
API_PASS="apipass"

AGENT="$1"
PHONE="$2"

RESULT=$(curl -s "$VICI_HOST/agc/api.php?source=crm&user=$API_USER&pass=$API_PASS&agent_user=$AGENT&function=click2call&phone_number=$PHONE&campaign_id=SALES")
echo "$RESULT"

if [[ "$RESULT" == *"SUCCESS"* ]]; then
    echo "Call placed"
else
    echo "Call failed"
    exit 1
fi
