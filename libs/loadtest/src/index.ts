export * from './report/load-report';
