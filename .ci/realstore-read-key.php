<?php
/**
 * Prints "CK CS" of a read-only REST key for the contract suite's
 * read-only-key-on-a-write case, replacing the one an earlier run made.
 * Run as the web server's user:  php realstore-read-key.php /srv/woo/www
 */
if ( PHP_SAPI !== 'cli' ) { exit( 1 ); }
$www  = rtrim( $argv[1] ?? '/srv/woo/www', '/' );
$site = getenv( 'REALSTORE_SITE' ) ?: 'https://127.0.0.1:8443';
$u    = parse_url( $site );
$_SERVER['HTTP_HOST']       = $u['host'] . ( isset( $u['port'] ) ? ':' . $u['port'] : '' );
$_SERVER['HTTPS']           = 'on';
$_SERVER['SERVER_PORT']     = $u['port'] ?? 443;
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['SERVER_NAME']     = $u['host'];
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
require $www . '/wp-load.php';
global $wpdb;
$table = $wpdb->prefix . 'woocommerce_api_keys';
$desc  = 'possync contract suite (read only)';
$wpdb->delete( $table, array( 'description' => $desc ) );
$ck = 'ck_' . wc_rand_hash();
$cs = 'cs_' . wc_rand_hash();
$wpdb->insert(
	$table,
	array(
		'user_id'         => 1,
		'description'     => $desc,
		'permissions'     => 'read',
		'consumer_key'    => wc_api_hash( $ck ),
		'consumer_secret' => $cs,
		'truncated_key'   => substr( $ck, -7 ),
	)
);
fwrite( STDOUT, "$ck $cs\n" );
