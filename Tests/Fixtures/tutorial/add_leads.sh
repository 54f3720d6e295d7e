#!/bin/bash
# The tutorial's batch lead import: one add_lead call per line of leads.csv (phone,first,last).
# Usage: ./add_leads.sh leads.csv
# (Kept as the tutorial wrote it; TutorialScriptsTests replaces only VICI_HOST and API_PASS.)
VICI_HOST="http://vicidial.example.com"
API_USER="apiuser"
API_PASS="apipass"
LIST_ID=101
CAMPAIGN_ID=SALES

while IFS=, read -r phone first last; do
    curl -s -X GET "$VICI_HOST/agc/api.php" \
        --data-urlencode "source=import" \
        --data-urlencode "user=$API_USER" \
        --data-urlencode "pass=$API_PASS" \
        --data-urlencode "function=add_lead" \
        --data-urlencode "phone_number=$phone" \
        --data-urlencode "first_name=$first" \
        --data-urlencode "last_name=$last" \
        --data-urlencode "list_id=$LIST_ID" \
        --data-urlencode "campaign_id=$CAMPAIGN_ID"
    echo
done < "${1:-leads.csv}"
