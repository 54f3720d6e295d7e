import CRMSink
import Foundation
import NIOPosix
import ViciDial

extension DependencyCheck {
    /// A `HEAD` of the endpoint's URL (query left off) with its own TLS and timeout settings: DNS,
    /// TCP, the TLS handshake and certificate, and an HTTP answer. Any status counts as reachable
    /// (many receivers answer 404 or 405 to HEAD); no webhook is sent. Only scheme, host and
    /// path are printed: a query may hold a token.
    static func webhookEndpoint(_ endpoint: WebhookEndpoint.Configuration) -> DependencyCheck {
        DependencyCheck(name: "webhook:\(endpoint.name)") {
            let template = endpoint.format == .vicidialTemplate ? ViciDialURLTemplate(endpoint.url).template : endpoint.url
            guard var components = URLComponents(string: template) else { return .failed("the URL does not parse") }
            components.query = nil
            components.fragment = nil
            components.user = nil
            components.password = nil
            guard let url = components.string else { return .failed("the URL does not parse") }
            let request = CurlHTTPRequest(
                method: "HEAD", url: url, connectTimeout: endpoint.connectTimeout, timeout: endpoint.timeout,
                verifiesTLS: endpoint.verifiesTLS, followsRedirects: false
            )
            // libcurl blocks: on the blocking-I/O pool, like the dispatcher's own threads.
            let answer = try? await NIOThreadPool.singleton.runIfActive { () -> Result<CurlHTTPResponse, CurlError> in
                Result { () throws(CurlError) in try CurlHTTPClient().perform(request) }
            }
            switch answer {
            case .success(let response)?:
                let tls = url.lowercased().hasPrefix("https") ? (endpoint.verifiesTLS ? ", TLS verified" : ", TLS NOT verified") : ""
                return .passed("reachable: HEAD \(url) answered \(response.status) in \(response.totalTime.millisecondsText)\(tls)")
            case .failure(let error)?:
                return .failed("HEAD \(url): \(error)")
            case nil:
                return .failed("HEAD \(url): the thread pool is not running")
            }
        }
    }
}
