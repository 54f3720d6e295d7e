import CCurl

/// libcurl's process-wide set-up.
///
/// `curl_global_init` must run before any other libcurl call and, before libcurl 7.84, was not
/// thread-safe; `curl_easy_init` would otherwise run it implicitly from whichever thread comes
/// first. A Swift static is initialised exactly once, thread-safely.
enum CurlLibrary {
    private static let initialisationStatus: CURLcode = amib_curl_global_init_all()

    static func ensureInitialised() throws(CurlError) {
        guard self.initialisationStatus == CURLE_OK else {
            throw CurlError(
                code: CurlError.Code(self.initialisationStatus),
                message: String(cString: curl_easy_strerror(self.initialisationStatus))
            )
        }
    }
}
