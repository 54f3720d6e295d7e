<?php
// The tutorial's agent status page, command-line version: php get_agent_status.php AGENT
// (Kept as the tutorial wrote it; TutorialScriptsTests replaces only $host and $pass.)
$host = "http://vicidial.example.com";
$user = "apiuser";
$pass = "apipass";

$agent = $argv[1] ?? "1001";
$url = "$host/agc/api.php?source=crm&user=$user&pass=$pass&function=get_agent_status&agent_user=" . urlencode($agent);

$response = file_get_contents($url);
parse_str($response, $status);

if ($status['status'] == 'ERROR') {
    echo "Error: " . $status['message'] . "\n";
    exit(1);
}

echo "Agent $agent is " . $status['status'] . "\n";
echo "Calls today: " . $status['calls_today'] . "\n";
echo "Talk time: " . $status['talk_time'] . " seconds\n";
