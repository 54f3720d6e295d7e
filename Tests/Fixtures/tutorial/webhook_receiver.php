<?php
// The tutorial's webhook receiver: one row in webhook_events per webhook, keyed by the call's
// uniqueid. Serve it with `php -S 127.0.0.1:8000 -t .` (or any PHP web server) and point an
// amibridge endpoint at http://127.0.0.1:8000/webhook_receiver.php.
//
//   CREATE TABLE webhook_events (
//       id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
//       event VARCHAR(32) NOT NULL,
//       uniqueid VARCHAR(50) NOT NULL UNIQUE,
//       phone_number VARCHAR(20) NOT NULL,
//       agent_user VARCHAR(20) NOT NULL,
//       campaign_id VARCHAR(20) NULL,
//       lead_id INT UNSIGNED NULL,
//       disposition VARCHAR(6) NULL,
//       notes TEXT NULL,
//       call_duration INT NULL,
//       received_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
//   );
//
// As the tutorial wrote it, except that the database settings come from the environment
// (WebhookReceiverTutorialTests points them at its private MariaDB). A second webhook with the
// same uniqueid breaks the UNIQUE key: PDO throws and the answer is a 500. With amibridge, give
// this endpoint `events: [call_complete]` and `wait_for_disposition: true` (see
// Sources/CRMSink/README.md, "Receivers that store one row per call").
$dsn  = getenv('CRM_DB_DSN') ?: 'mysql:host=localhost;dbname=crm;charset=utf8mb4';
$user = getenv('CRM_DB_USER') ?: 'crm';
$pass = getenv('CRM_DB_PASSWORD') ?: 'crmpass';

$body = file_get_contents('php://input');
$data = json_decode($body, true);

foreach (['event', 'uniqueid', 'phone_number', 'agent_user'] as $field) {
    if (!is_array($data) || empty($data[$field])) {
        http_response_code(400);
        echo "missing field: $field\n";
        exit;
    }
}

$pdo = new PDO($dsn, $user, $pass, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$stmt = $pdo->prepare(
    'INSERT INTO webhook_events (event, uniqueid, phone_number, agent_user, campaign_id, lead_id, disposition, notes, call_duration)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
);
$stmt->execute([
    $data['event'],
    $data['uniqueid'],
    $data['phone_number'],
    $data['agent_user'],
    $data['campaign_id'] ?? null,
    $data['lead_id'] ?? null,
    $data['disposition'] ?? null,
    $data['notes'] ?? null,
    $data['call_duration'] ?? null,
]);

http_response_code(200);
echo "OK\n";
