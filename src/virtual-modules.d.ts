// Modules the site build provides (see src/integrations/course-manifest.ts).

declare module 'virtual:course-manifest' {
  const manifest: import('../runner/protocol.ts').CourseManifest;
  export default manifest;
}
